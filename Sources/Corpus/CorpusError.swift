import Foundation

/// Everything that can go wrong in the Corpus module. Each case names the file or argument
/// involved and says what to do about it.
public enum CorpusError: LocalizedError, Equatable {
    /// The file could not be opened (missing, unreadable, a directory).
    case cannotOpen(path: String, reason: String)
    /// Reading the file failed part-way (I/O error).
    case readFailed(path: String, reason: String)
    /// The file is compressed with a codec this tool does not read.
    case unsupportedCompression(path: String, codec: String)
    /// The decompressor could not be set up or failed before producing any data.
    case decompressionFailed(path: String, codec: String, reason: String)
    /// The (decompressed) content is not one of the supported corpus formats.
    case unsupportedFormat(path: String, detail: String)
    /// Writing an output file failed; nothing was left at the destination.
    case writeFailed(path: String, reason: String)
    /// A caller-supplied argument is out of range.
    case invalidArgument(name: String, value: String, hint: String)
    /// A language code has no script profile.
    case unknownLanguage(code: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason):
            return "Cannot open corpus file '\(path)': \(reason). Check the path and its permissions."
        case let .readFailed(path, reason):
            return "Reading '\(path)' failed: \(reason). Check the disk and try again."
        case let .unsupportedCompression(path, codec):
            return "'\(path)' is \(codec)-compressed, which is not supported. "
                + "Recompress it as .zst or .bz2 (or decompress it) and try again."
        case let .decompressionFailed(path, codec, reason):
            return "Cannot decompress '\(path)' (\(codec)): \(reason). The file may be corrupt or mislabelled."
        case let .unsupportedFormat(path, detail):
            return "'\(path)' is not a supported corpus: \(detail). Supported: MediaWiki export XML "
                + "(pages-articles), JSON lines with a \"text\" field, or plain text with one document per line."
        case let .writeFailed(path, reason):
            return "Cannot write '\(path)': \(reason). Check that the directory exists and is writable."
        case let .invalidArgument(name, value, hint):
            return "Invalid \(name) '\(value)': \(hint)."
        case let .unknownLanguage(code):
            return "No script profile for language '\(code)'. Use an ISO 639-1 code such as en, vi, ja, bn, zh, ar, ru, th, sw "
                + "(ScriptProfile.supportedLanguages lists them all)."
        }
    }
}
