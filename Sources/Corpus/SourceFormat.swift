/// Container format of a corpus source, after decompression.
public enum SourceFormat: String, Sendable, Codable, CaseIterable {
    /// MediaWiki export XML (`pages-articles`, schema 0.10/0.11).
    case mediawikiXML = "xml"
    /// One JSON object per line with a `text` field (WikiExtractor `--json`, OSCAR, Hugging Face exports).
    case jsonLines = "jsonl"
    /// One document per line (the PLND corpus format).
    case plainText = "text"
}

/// Compression codec of a corpus file, detected from its magic bytes.
public enum Compression: String, Sendable, Codable {
    case none
    case bzip2
    case zstd
}

extension SourceFormat {
    /// The format implied by a file name once `.bz2`/`.zst` are stripped, or nil when the name says nothing.
    static func fromFileName(_ path: String) -> SourceFormat? {
        var name = path.lowercased()
        for suffix in [".bz2", ".zst", ".zstd"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        if name.hasSuffix(".xml") { return .mediawikiXML }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".json") { return .jsonLines }
        if name.hasSuffix(".txt") { return .plainText }
        return nil
    }

    /// Guesses the format from the first decompressed bytes: `<` → XML, `{` → JSON lines, else text.
    static func sniff(_ head: UnsafeBufferPointer<UInt8>) -> SourceFormat {
        var i = 0
        if head.count >= 3, head[0] == 0xEF, head[1] == 0xBB, head[2] == 0xBF { i = 3 }
        while i < head.count, head[i] == 0x20 || head[i] == 0x0A || head[i] == 0x0D || head[i] == 0x09 { i += 1 }
        guard i < head.count else { return .plainText }
        switch head[i] {
        case UInt8(ascii: "<"): return .mediawikiXML
        case UInt8(ascii: "{"): return .jsonLines
        default: return .plainText
        }
    }
}
