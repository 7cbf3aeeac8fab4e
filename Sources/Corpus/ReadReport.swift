/// Why a page or record did not become a document.
public enum SkipReason: String, Sendable, Codable, CaseIterable {
    /// A page outside the article namespace (0): talk, user, project, template… pages.
    case notArticleNamespace = "not-article-namespace"
    /// A redirect page.
    case redirect
    /// The text (or title) is not valid UTF-8.
    case invalidUTF8 = "invalid-utf8"
    /// An unknown or malformed XML entity (`&foo;`, `&#xZZ;`).
    case badEntity = "bad-entity"
    /// A page without `<text>` (or an empty one), or a JSON record without a string `text`.
    case missingText = "missing-text"
    /// A page or record whose structure is broken (no title, not JSON, too large).
    case malformed
    /// Nothing visible is left after removing the markup.
    case emptyAfterCleaning = "empty-after-cleaning"
    /// Shorter than the requested minimum number of characters.
    case tooShort = "too-short"

    /// Filters (namespace, redirect, length) are expected; the rest are warnings about bad input.
    public var isWarning: Bool {
        switch self {
        case .notArticleNamespace, .redirect, .tooShort, .emptyAfterCleaning: return false
        default: return true
        }
    }
}

/// What a `DocumentReader` saw: counts, skips by reason, and whether the source was cut short.
public struct ReadReport: Sendable, Equatable {
    /// Format read (detected or forced).
    public var format: SourceFormat
    /// Compression detected from the magic bytes.
    public var compression: Compression
    /// Complete `<page>` elements (XML) or non-empty lines/records (JSON lines, text).
    public var pages = 0
    /// Pages in namespace 0 that are not redirects (XML); equals `pages` for other formats.
    public var articles = 0
    /// Documents handed out.
    public var documents = 0
    /// Pages/records not handed out, by reason.
    public var skipped: [SkipReason: Int] = [:]
    /// The source ended mid-page/mid-record or its compressed stream was cut.
    public var truncated = false
    /// What was cut, e.g. `page 'Foo' (id 123) has no </page>`.
    public var truncationDetail: String?
    /// The first few warnings, verbatim (counts are in `skipped`).
    public var warnings: [String] = []
    /// Compressed bytes read from the file.
    public var compressedBytes = 0
    /// Decompressed bytes parsed (the XML/JSON/text size).
    public var decodedBytes = 0

    public init(format: SourceFormat, compression: Compression) {
        self.format = format
        self.compression = compression
    }

    /// Count of pages/records skipped for `reason`.
    public func skipped(_ reason: SkipReason) -> Int { skipped[reason, default: 0] }

    /// Total skipped pages/records that indicate bad input (not filters).
    public var warningCount: Int { skipped.filter { $0.key.isWarning }.reduce(0) { $0 + $1.value } }

    static let maxWarnings = 20

    mutating func skip(_ reason: SkipReason, _ message: @autoclosure () -> String) {
        skipped[reason, default: 0] += 1
        if reason.isWarning && warnings.count < Self.maxWarnings { warnings.append(message()) }
    }
}
