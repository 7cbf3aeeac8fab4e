import Foundation

/// Errors from reading and writing model files. Each names the file and what to do.
public enum ModelIOError: LocalizedError, Equatable {
    case cannotOpen(path: String, reason: String)
    case notGGUF(path: String, magic: String)
    case unsupportedGGUFVersion(path: String, version: UInt32)
    case truncated(path: String, needed: Int, size: Int, what: String)
    case malformed(path: String, field: String, reason: String)
    case unknownValueType(path: String, key: String, type: UInt32)
    case unknownTensorType(path: String, tensor: String, type: UInt32)
    case unsupportedTensorType(path: String, tensor: String, type: String)
    case missingTensor(path: String, tensor: String)
    case missingMetadata(path: String, key: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case writeFailed(path: String, reason: String)
    case rowsOutOfRange(path: String, tensor: String, rows: Range<Int>, rowCount: Int)
    case bufferSizeMismatch(path: String, tensor: String, expected: Int, got: Int)
    case missingFile(path: String, what: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open (\(TextLimits.shown(reason, limit: 300))). Check the path and permissions."
        case let .notGGUF(path, magic):
            return "\(path): not a GGUF file (magic \(TextLimits.shown(magic)), expected 'GGUF'). Pass a .gguf file or a Hugging Face model directory."
        case let .unsupportedGGUFVersion(path, version):
            return "\(path): GGUF version \(version) is not supported (supported: 2, 3). Re-convert the model with a current llama.cpp."
        case let .truncated(path, needed, size, what):
            return "\(path): file is truncated: \(TextLimits.shown(what, limit: 200)) needs \(needed) bytes but the file has \(size). Download the file again."
        case let .malformed(path, field, reason):
            return "\(path): malformed field '\(TextLimits.shown(field))': \(TextLimits.shown(reason, limit: 300)). The file is corrupt or not a supported model file."
        case let .unknownValueType(path, key, type):
            return "\(path): metadata key '\(TextLimits.shown(key))' has unknown value type \(type). The file is corrupt or from a newer GGUF version."
        case let .unknownTensorType(path, tensor, type):
            return "\(path): tensor '\(TextLimits.shown(tensor))' has unknown ggml type \(type). The file is corrupt or uses a quantisation this tool does not know."
        case let .unsupportedTensorType(path, tensor, type):
            return "\(path): tensor '\(TextLimits.shown(tensor))' uses quantisation \(TextLimits.shown(type)), which langneuron cannot dequantise yet. Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. Use a model file with one of these."
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(TextLimits.shown(tensor))' is missing. The file is incomplete or not of the architecture it claims."
        case let .missingMetadata(path, key):
            return "\(path): metadata key '\(TextLimits.shown(key))' is missing. The file is incomplete or not of the architecture it claims."
        case let .shapeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(TextLimits.shown(tensor))' has shape \(found), expected \(expected). The file does not match its own configuration."
        case let .writeFailed(path, reason):
            return "\(path): cannot write (\(TextLimits.shown(reason, limit: 300))). Check free disk space and permissions."
        case let .rowsOutOfRange(path, tensor, rows, rowCount):
            return "\(path): tensor '\(TextLimits.shown(tensor))' has \(rowCount) rows; rows \(rows.lowerBound)..<\(rows.upperBound) were requested. Ask for rows inside 0..<\(rowCount)."
        case let .bufferSizeMismatch(path, tensor, expected, got):
            return "\(path): tensor '\(TextLimits.shown(tensor))': the output buffer holds \(got) values but \(expected) are needed. Size the buffer as rows × row length."
        case let .missingFile(path, what):
            return "\(path): not found (\(TextLimits.shown(what, limit: 200))). Check that the model was downloaded completely."
        }
    }
}
