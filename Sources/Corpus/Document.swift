/// One clean document: an article's visible prose, a JSON-lines record or a line of a text corpus.
public struct Document: Sendable, Hashable, Codable {
    /// Article title (XML, JSON lines with `title`), or `line N` for plain text corpora.
    public var title: String
    /// Page id (XML), the record's `id` (JSON lines, else its line number), or the line number.
    public var id: String
    /// Plain text: paragraphs and headings on their own lines, no markup.
    public var text: String
    /// Source URL when the record carried one (JSON lines exports).
    public var url: String?

    public init(title: String, id: String, text: String, url: String? = nil) {
        self.title = title
        self.id = id
        self.text = text
        self.url = url
    }

    /// Number of Unicode scalar values in `text` (what `--min-chars` compares against).
    public var charCount: Int {
        // Scalars = bytes that are not UTF-8 continuation bytes.
        var copy = text
        return copy.withUTF8 { bytes in
            var n = 0
            for b in bytes where b & 0xC0 != 0x80 { n += 1 }
            return n
        }
    }
    /// Number of UTF-8 bytes in `text`.
    public var byteCount: Int { text.utf8.count }
}
