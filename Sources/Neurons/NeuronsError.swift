import Foundation
import ModelIO

/// Errors of PLND detection and neuron-set handling. Each message names the file or input,
/// the field, and what to do about it.
public enum NeuronsError: LocalizedError, Equatable {
    /// A neuron-set file could not be read or parsed.
    case unreadableFile(path: String, reason: String)
    /// A required field is missing or has the wrong type.
    case badField(path: String, field: String, reason: String)
    /// The `format` field is not `langneuron.neurons/1`.
    case unsupportedFormat(path: String, found: String)
    /// A structure name other than attn_q, attn_k, attn_v, attn_output, ffn.
    case unknownStructure(path: String, layer: String, name: String)
    /// A layer key that is not a non-negative integer, or a layer the model does not have.
    case badLayer(path: String, layer: String, layers: Int)
    /// An index outside `0..<limit`.
    case indexOutOfRange(path: String, layer: Int, structure: String, index: Int, limit: Int)
    /// The same index listed twice.
    case duplicateIndex(path: String, layer: Int, structure: String, index: Int)
    /// The set was detected on a different model.
    case fingerprintMismatch(path: String, expected: String, found: String)
    /// Two sets that must describe the same model do not.
    case modelMismatch(first: String, second: String, reason: String)
    /// No usable documents.
    case emptyCorpus(path: String, reason: String)
    /// A document that tokenises to nothing.
    case emptyDocument(index: Int)
    /// Selection or detection options that make no sense.
    case invalidOption(name: String, reason: String)
    /// Writing an output failed.
    case writeFailed(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read the neuron set (\(TextLimits.shown(reason, limit: 300))). Pass a file written by `langneuron detect` or `langneuron neurons`."
        case let .badField(path, field, reason):
            return "\(path): field '\(TextLimits.shown(field))' \(TextLimits.shown(reason, limit: 300)). Fix the file (see docs/plnd.md for the format)."
        case let .unsupportedFormat(path, found):
            return "\(path): field 'format' is '\(TextLimits.shown(found))', expected 'langneuron.neurons/1'. Re-create the file with this version of langneuron."
        case let .unknownStructure(path, layer, name):
            return "\(path): layers.\(TextLimits.shown(layer)) has unknown structure '\(TextLimits.shown(name))'. Use attn_q, attn_k, attn_v, attn_output or ffn."
        case let .badLayer(path, layer, layers):
            return "\(path): layer key '\(TextLimits.shown(layer))' is not a layer of the model (0..<\(layers)). Remove it or use the model the set was made for."
        case let .indexOutOfRange(path, layer, structure, index, limit):
            return "\(path): layers.\(layer).\(TextLimits.shown(structure)) lists index \(index), outside 0..<\(limit) for this model. The set belongs to a different model or is corrupt."
        case let .duplicateIndex(path, layer, structure, index):
            return "\(path): layers.\(layer).\(TextLimits.shown(structure)) lists index \(index) more than once. Remove the duplicate."
        case let .fingerprintMismatch(path, expected, found):
            return "\(path): model.fingerprint is \(TextLimits.shown(found)) but the model in use has fingerprint \(expected). Use the model the set was detected on, or re-run detection."
        case let .modelMismatch(first, second, reason):
            return "\(first) and \(second) do not describe the same model: \(TextLimits.shown(reason, limit: 300))."
        case let .emptyCorpus(path, reason):
            return "\(path): no documents to run (\(TextLimits.shown(reason, limit: 300))). Give a UTF-8 text file with one document per line."
        case let .emptyDocument(index):
            return "document \(index) has no tokens. Remove empty documents from the corpus."
        case let .invalidOption(name, reason):
            return "option \(TextLimits.shown(name)): \(TextLimits.shown(reason, limit: 300))."
        case let .writeFailed(path, reason):
            return "\(path): cannot write (\(TextLimits.shown(reason, limit: 300))). Check that the directory exists and is writable."
        }
    }
}
