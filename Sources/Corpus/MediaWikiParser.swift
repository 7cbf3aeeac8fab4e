/// Byte-level scanner for MediaWiki export XML. Relies on the export format's regularity:
/// character data never contains a raw `<` (it is escaped as `&lt;`), so `</page>` marks
/// the page end unambiguously and a page can be cut out without a general XML parser.
final class MediaWikiParser: RecordParser {
    private let buffer: StreamBuffer
    private let path: String
    private(set) var siteInfo = SiteInfo()
    private var cleaner: WikitextCleaner
    private let clean: Bool
    private var scanOffset = 0
    private var done = false
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity = 1 << 16
    /// Pages larger than this are skipped as malformed (real articles are < 5 MB).
    static let maxPageBytes = 256 << 20

    init(buffer: StreamBuffer, path: String, clean: Bool) throws {
        self.buffer = buffer
        self.path = path
        self.clean = clean
        scratch = .allocate(capacity: scratchCapacity)
        cleaner = WikitextCleaner(namespaces: NamespaceNames(siteInfo: SiteInfo()))
        try readSiteInfo()
        cleaner = WikitextCleaner(namespaces: NamespaceNames(siteInfo: siteInfo))
    }

    deinit { scratch.deallocate() }

    /// Reads up to the first `<page>` and parses `<siteinfo>` if present.
    private func readSiteInfo() throws {
        while true {
            if let p = buffer.find("<page>", from: buffer.start) {
                if let s = buffer.find("<siteinfo>", from: buffer.start), s < p,
                   let e = buffer.find("</siteinfo>", from: s), e < p {
                    siteInfo = SiteInfo.parse(buffer.slice(s, e))
                }
                return
            }
            if buffer.count > (64 << 20) {
                throw CorpusError.unsupportedFormat(path: path, detail: "no <page> element in the first 64 MiB")
            }
            if !(try buffer.fill()) {
                // A stream cut before the root element is reported as truncated by the reader.
                if buffer.find("<mediawiki", from: buffer.start) == nil, buffer.truncation == nil {
                    throw CorpusError.unsupportedFormat(path: path, detail: "XML without a <mediawiki> root element")
                }
                return
            }
        }
    }

    func next(report: inout ReadReport) throws -> Document? {
        while !done {
            guard let pageStart = buffer.find("<page>", from: buffer.start) else {
                // Keep a tail: "<page>" or "</mediawiki>" may straddle the chunk boundary.
                buffer.start = max(buffer.start, buffer.end - 64)
                if !(try buffer.fill()) { finish(report: &report, openPage: nil) }
                continue
            }
            buffer.start = pageStart
            // scanOffset is relative to the page start, which fill() may move.
            guard let close = buffer.find("</page>", from: pageStart + max(6, scanOffset)) else {
                scanOffset = max(6, buffer.count - 7)
                if buffer.count > Self.maxPageBytes {
                    report.skip(.malformed, "page at decoded byte \(buffer.bytesDelivered - buffer.count) exceeds \(Self.maxPageBytes >> 20) MiB; skipped")
                    buffer.start = buffer.end
                    scanOffset = 0
                    continue
                }
                if !(try buffer.fill()) { finish(report: &report, openPage: buffer.slice(buffer.start, buffer.end)) }
                continue
            }
            scanOffset = 0
            let page = buffer.slice(pageStart + 6, close)
            buffer.start = close + 7
            report.pages += 1
            if let doc = parsePage(page, report: &report) { return doc }
        }
        return nil
    }

    private func finish(report: inout ReadReport, openPage: UnsafeBufferPointer<UInt8>?) {
        done = true
        if let openPage, findBytes("<page>", in: openPage) != nil {
            report.truncated = true
            let title = field(.title, in: openPage).map { XMLText.decodeLossy($0) } ?? "?"
            let id = field(.id, in: openPage).map { XMLText.decodeLossy($0) } ?? "?"
            report.truncationDetail = "page '\(title)' (id \(id)) has no </page>: the dump is cut short there"
        } else if buffer.find("</mediawiki>", from: buffer.start) == nil, report.pages > 0 {
            // Cut exactly between pages: nothing lost, but say so.
            report.truncated = true
            report.truncationDetail = "no </mediawiki> at the end: the dump is cut short between pages"
        }
        if let t = buffer.truncation {
            report.truncated = true
            report.truncationDetail = [report.truncationDetail, t].compactMap { $0 }.joined(separator: "; ")
        }
    }

    private enum Field { case title, ns, id }

    /// The content of the first `<name>…</name>` in `page`.
    private func field(_ name: Field, in page: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        let open: StaticString
        let close: StaticString
        switch name {
        case .title: open = "<title>"; close = "</title>"
        case .ns: open = "<ns>"; close = "</ns>"
        case .id: open = "<id>"; close = "</id>"
        }
        guard let s = findBytes(open, in: page) else { return nil }
        let from = s + open.utf8CodeUnitCount
        guard let e = findBytes(close, in: page, from: from) else { return nil }
        return UnsafeBufferPointer(rebasing: page[from..<e])
    }

    private func ensureScratch(_ n: Int) {
        if n > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = max(n, scratchCapacity * 2)
            scratch = .allocate(capacity: scratchCapacity)
        }
    }

    private func parsePage(_ page: UnsafeBufferPointer<UInt8>, report: inout ReadReport) -> Document? {
        let pageNumber = report.pages
        guard let titleBytes = field(.title, in: page) else {
            report.skip(.malformed, "page #\(pageNumber) has no <title>")
            return nil
        }
        ensureScratch(titleBytes.count + 1)
        guard let titleLength = try? XMLText.decode(titleBytes, into: scratch),
              let title = String(validating: UnsafeBufferPointer(start: scratch, count: titleLength), as: UTF8.self) else {
            report.skip(.badEntity, "page #\(pageNumber): title has a bad entity or invalid UTF-8")
            return nil
        }
        let id = field(.id, in: page).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var ns = 0
        if let nsBytes = field(.ns, in: page) {
            var sign = 1
            var value = 0
            for (k, b) in nsBytes.enumerated() {
                if k == 0, b == UInt8(ascii: "-") { sign = -1; continue }
                guard b >= 48, b <= 57 else {
                    report.skip(.malformed, "page '\(title)' (id \(id)): <ns> is not a number")
                    return nil
                }
                value = value * 10 + Int(b - 48)
            }
            ns = sign * value
        } else {
            ns = siteInfo.namespace(ofTitle: title)
        }
        let revision = findBytes("<revision>", in: page) ?? page.count
        let isRedirect = findBytes("<redirect", in: UnsafeBufferPointer(rebasing: page[0..<revision])) != nil
        if ns != 0 {
            report.skip(.notArticleNamespace, "")
            return nil
        }
        if isRedirect {
            report.skip(.redirect, "")
            return nil
        }
        report.articles += 1
        guard let textOpen = findBytes("<text", in: page, from: revision),
              let gt = findBytes(">", in: page, from: textOpen) else {
            report.skip(.missingText, "page '\(title)' (id \(id)) has no <text>")
            return nil
        }
        if page[gt - 1] == UInt8(ascii: "/") {
            report.skip(.missingText, "page '\(title)' (id \(id)) has an empty <text/>")
            return nil
        }
        guard let textClose = findBytes("</text>", in: page, from: gt + 1) else {
            report.skip(.malformed, "page '\(title)' (id \(id)): <text> is not closed")
            return nil
        }
        let raw = UnsafeBufferPointer(rebasing: page[(gt + 1)..<textClose])
        ensureScratch(raw.count + 1)
        let decodedLength: Int
        do {
            decodedLength = try XMLText.decode(raw, into: scratch)
        } catch XMLText.DecodeError.badEntity(let what) {
            report.skip(.badEntity, "page '\(title)' (id \(id)): bad XML entity '\(what)'")
            return nil
        } catch {
            report.skip(.badEntity, "page '\(title)' (id \(id)): bad XML entity")
            return nil
        }
        if decodedLength == 0 {
            report.skip(.missingText, "page '\(title)' (id \(id)) has an empty <text>")
            return nil
        }
        let decoded = UnsafeBufferPointer(start: scratch, count: decodedLength)
        // Full validation happens once, on the (smaller) cleaned text; bytes ≥ 0xF5 are checked
        // up front because the cleaner uses them internally. Invalid bytes inside removed markup
        // therefore do not reject a page whose visible text is fine.
        let text: String
        if clean, maximumByte(decoded) < 0xF5, let cleaned = cleaner.cleanValidating(decoded) {
            text = cleaned
        } else if !clean, let raw = String(validating: decoded, as: UTF8.self) {
            text = raw
        } else {
            report.skip(.invalidUTF8, "page '\(title)' (id \(id)): text is not valid UTF-8")
            return nil
        }
        if text.isEmpty {
            report.skip(.emptyAfterCleaning, "")
            return nil
        }
        return Document(title: title, id: id, text: text)
    }
}
