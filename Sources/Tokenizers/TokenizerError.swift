import Foundation
import ModelIO

/// Errors from building a tokenizer. Each names the file, the field and what to do.
public enum TokenizerError: LocalizedError, Equatable {
    /// A required field is absent (`field` is a GGUF key or a JSON path).
    case missingField(file: String, field: String)
    /// A field is present but has the wrong type or an impossible value.
    case invalidField(file: String, field: String, reason: String)
    /// The tokenizer model (e.g. `tokenizer.ggml.model` or `model.type`) is not implemented.
    case unsupportedModel(file: String, field: String, model: String, supported: [String])
    /// A pipeline component (pre-tokenizer, normalizer, decoder, post-processor) is not implemented.
    case unsupportedComponent(file: String, field: String, component: String, supported: [String])
    /// The file cannot be read or is not valid JSON.
    case unreadable(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .missingField(file, field):
            return "\(file): tokenizer field '\(TextLimits.shown(field))' is missing. The file has no usable tokenizer; use a model file converted with its tokenizer (e.g. a current llama.cpp convert script or the model's original tokenizer.json)."
        case let .invalidField(file, field, reason):
            return "\(file): tokenizer field '\(TextLimits.shown(field))' is invalid: \(TextLimits.shown(reason, limit: 300)). The file is corrupt or was written by an incompatible converter; re-download or re-convert it."
        case let .unsupportedModel(file, field, model, supported):
            return "\(file): tokenizer model '\(TextLimits.shown(model))' (field '\(TextLimits.shown(field))') is not supported. Supported: \(supported.joined(separator: ", ")). Use a model whose tokenizer is one of these."
        case let .unsupportedComponent(file, field, component, supported):
            return "\(file): tokenizer component '\(TextLimits.shown(component))' (field '\(TextLimits.shown(field))') is not supported. Supported: \(supported.joined(separator: ", ")). Use a model whose tokenizer uses only these."
        case let .unreadable(file, reason):
            return "\(file): cannot read the tokenizer (\(TextLimits.shown(reason, limit: 300))). Check that the path points to a valid tokenizer.json."
        }
    }
}
