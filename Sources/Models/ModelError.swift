import Foundation

/// Errors from building and running a model.
public enum ModelError: LocalizedError {
    case unsupportedArchitecture(path: String, architecture: String)
    case invalidConfig(path: String, field: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case tokenOutOfRange(token: Int32, vocabulary: Int)
    case sequenceTooLong(length: Int, limit: Int)
    case emptySequence
    case unsupportedInBatch(feature: String)

    public var errorDescription: String? {
        switch self {
        case let .unsupportedArchitecture(path, arch):
            return "\(path): architecture '\(arch)' is not supported. Supported: llama, mistral, qwen2, qwen3, gemma3 (text)."
        case let .invalidConfig(path, field, reason):
            return "\(path): configuration field '\(field)' \(reason). Fix the model's configuration or use a supported model."
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(tensor)' is missing. The model file is incomplete or not of the architecture it claims."
        case let .shapeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)' has shape \(found) but the configuration implies \(expected)."
        case let .tokenOutOfRange(token, vocab):
            return "token id \(token) is outside the vocabulary (size \(vocab)). The ids do not belong to this model's tokenizer."
        case let .sequenceTooLong(length, limit):
            return "sequence of \(length) tokens exceeds the limit of \(limit). Use a shorter text or a window."
        case .emptySequence:
            return "a sequence with no tokens was given to the model. Give every sequence at least one token."
        case let .unsupportedInBatch(feature):
            return "\(feature) cannot be used in a batched forward pass. Run the sequences one at a time."
        }
    }
}
