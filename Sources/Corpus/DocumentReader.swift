/// Streams clean documents from a corpus file: MediaWiki export XML (`pages-articles`),
/// JSON lines, or plain text with one document per line — each plain, `.bz2` (multistream
/// too) or `.zst`. The format comes from the file name or, failing that, from the content.
/// Memory stays bounded by the largest page, whatever the file size.
///
/// ```swift
/// let reader = try DocumentReader(path: "viwiki-latest-pages-articles.xml.bz2")
/// while let doc = try reader.next() { … }
/// print(reader.report.articles, reader.report.truncated)
/// ```
public final class DocumentReader {
    /// How to read a source.
    public struct Options: Sendable {
        /// Force a format instead of detecting it.
        public var format: SourceFormat?
        /// Skip documents with fewer Unicode scalars than this (after cleaning).
        public var minChars: Int
        /// Clean wikitext to plain text (XML only); false hands out the raw wikitext.
        public var cleanWikitext: Bool

        public init(format: SourceFormat? = nil, minChars: Int = 0, cleanWikitext: Bool = true) {
            self.format = format
            self.minChars = minChars
            self.cleanWikitext = cleanWikitext
        }
    }

    /// The file being read.
    public let path: String
    /// Counts so far; final once `next()` has returned nil.
    public private(set) var report: ReadReport
    /// The dump's `<siteinfo>` (XML sources only).
    public let siteInfo: SiteInfo?

    private let buffer: StreamBuffer
    private let parser: RecordParser
    private let options: Options
    private var finished = false

    /// Opens `path`, detects compression (magic bytes) and format, and for XML reads `<siteinfo>`.
    public convenience init(path: String, options: Options = Options()) throws {
        let file = try FileByteSource(path: path)
        try self.init(file: file, path: path, options: options)
    }

    /// Reads from bytes in memory (tests, benchmarks); `name` is used in messages and for the format hint.
    public convenience init(bytes: [UInt8], name: String, options: Options = Options()) throws {
        try self.init(file: MemoryByteSource(bytes), path: name, options: options)
    }

    private init(file: ByteSource, path: String, options: Options) throws {
        guard options.minChars >= 0 else {
            throw CorpusError.invalidArgument(name: "minChars", value: String(options.minChars), hint: "must be 0 or more")
        }
        self.path = path
        self.options = options
        // Sniff the compression from the first bytes.
        var magic = [UInt8](repeating: 0, count: 6)
        var got = 0
        while got < magic.count {
            let n = try magic.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            if n == 0 { break }
            got += n
        }
        magic.removeLast(magic.count - got)
        let replay = PrefixedByteSource(prefix: magic, inner: file)
        let compression: Compression
        let source: ByteSource
        if magic.count >= 4, magic[0] == 0x28, magic[1] == 0xB5, magic[2] == 0x2F, magic[3] == 0xFD {
            compression = .zstd
            source = try ZstdByteSource(inner: replay, path: path)
        } else if magic.count >= 4, magic[0] == 0x42, magic[1] == 0x5A, magic[2] == 0x68, (0x31...0x39).contains(magic[3]) {
            compression = .bzip2
            source = try Bzip2ByteSource(inner: replay, path: path)
        } else if magic.count >= 2, magic[0] == 0x1F, magic[1] == 0x8B {
            throw CorpusError.unsupportedCompression(path: path, codec: "gzip")
        } else if magic.count >= 6, magic[0] == 0xFD, magic[1] == 0x37, magic[2] == 0x7A, magic[3] == 0x58 {
            throw CorpusError.unsupportedCompression(path: path, codec: "xz")
        } else {
            compression = .none
            source = replay
        }
        let buffer = StreamBuffer(source: source)
        self.buffer = buffer
        try buffer.fill()
        // Undecodable from the first byte (not merely cut short): say so rather than return nothing.
        if buffer.count == 0, source.isCorrupt, let cut = buffer.truncation {
            throw CorpusError.decompressionFailed(path: path, codec: compression.rawValue, reason: cut)
        }
        let format = options.format ?? SourceFormat.fromFileName(path) ?? SourceFormat.sniff(buffer.slice(buffer.start, buffer.end))
        report = ReadReport(format: format, compression: compression)
        switch format {
        case .mediawikiXML:
            let xml = try MediaWikiParser(buffer: buffer, path: path, clean: options.cleanWikitext)
            siteInfo = xml.siteInfo
            parser = xml
        case .jsonLines:
            siteInfo = nil
            parser = JSONLinesParser(buffer: buffer, path: path)
        case .plainText:
            siteInfo = nil
            parser = PlainTextParser(buffer: buffer, path: path)
        }
    }

    /// The next document, or nil when the source is exhausted (then `report` is final).
    /// Throws only on I/O errors; bad pages and records are skipped and counted.
    public func next() throws -> Document? {
        guard !finished else { return nil }
        while let doc = try parser.next(report: &report) {
            if options.minChars > 0, doc.charCount < options.minChars {
                report.skip(.tooShort, "")
                continue
            }
            report.documents += 1
            syncByteCounts()
            return doc
        }
        finished = true
        syncByteCounts()
        if let cut = buffer.truncation, !report.truncated {
            report.truncated = true
            report.truncationDetail = cut
        }
        return nil
    }

    /// Calls `body` for every remaining document.
    public func forEach(_ body: (Document) throws -> Void) throws {
        while let doc = try next() { try body(doc) }
    }

    /// All remaining documents (small sources only; large ones should be streamed with `next()`).
    public func readAll() throws -> [Document] {
        var docs: [Document] = []
        try forEach { docs.append($0) }
        return docs
    }

    private func syncByteCounts() {
        report.compressedBytes = buffer.compressedBytesRead
        report.decodedBytes = buffer.bytesDelivered
    }
}
