import XCTest
@testable import Corpus

final class ReaderRobustnessTests: XCTestCase {
    let goodPages = [
        page("Alpha", id: 1, text: "'''Alpha''' is the first letter.&lt;ref&gt;x&lt;/ref&gt;"),
        page("Talk:Alpha", id: 2, ns: 1, text: "Discussion."),
        page("Beta", id: 3, redirect: "Alpha", text: "#REDIRECT [[Alpha]]"),
        page("Gamma &amp; Delta", id: 4, text: "Gamma [[Tập tin:G.png|nhỏ]]and delta.\n[[Thể loại:Letters]]"),
    ]

    func testBasicCountsAndFilters() throws {
        let (docs, r) = try readAll(bytes: Array(mediawikiXML(goodPages).utf8), name: "t.xml")
        XCTAssertEqual(docs.map(\.title), ["Alpha", "Gamma & Delta"])
        XCTAssertEqual(docs.map(\.text), ["Alpha is the first letter.", "Gamma and delta."])
        XCTAssertEqual(docs.map(\.id), ["1", "4"])
        XCTAssertEqual(r.pages, 4)
        XCTAssertEqual(r.articles, 2)
        XCTAssertEqual(r.skipped(.notArticleNamespace), 1)
        XCTAssertEqual(r.skipped(.redirect), 1)
        XCTAssertFalse(r.truncated)
        XCTAssertEqual(r.warningCount, 0)
    }

    func testMalformedPagesAreCountedSkipsNotCrashes() throws {
        var bytes = Array(mediawikiXML([
            page("Good", id: 1, text: "Fine text."),
            page("BadEntity", id: 2, text: "Broken &bogus; entity."),
            page("BadUTF8", id: 3, text: "Bad PLACEHOLDER bytes."),
            page("NoText", id: 4, text: nil),
            page("EmptyText", id: 5, text: ""),
            "    <ns>0</ns>\n    <id>6</id>",  // no title
            page("BadNs", id: 7, text: "x").replacingOccurrences(of: "<ns>0</ns>", with: "<ns>zero</ns>"),
            page("Good2", id: 8, text: "More fine text."),
        ]).utf8)
        // Splice an invalid UTF-8 sequence (a lone continuation byte and an overlong) into page 3.
        let marker = Array("PLACEHOLDER".utf8)
        if let at = firstIndex(of: marker, in: bytes) {
            bytes.replaceSubrange(at..<(at + marker.count), with: [0x80, 0xC0, 0xAF])
        }
        let (docs, r) = try readAll(bytes: bytes, name: "bad.xml")
        XCTAssertEqual(docs.map(\.title), ["Good", "Good2"])
        XCTAssertEqual(r.pages, 8)
        XCTAssertEqual(r.skipped(.badEntity), 1)
        XCTAssertEqual(r.skipped(.invalidUTF8), 1)
        XCTAssertEqual(r.skipped(.missingText), 2)
        XCTAssertEqual(r.skipped(.malformed), 2)
        XCTAssertEqual(r.warningCount, 6)
        XCTAssertEqual(r.warnings.count, 6)
        XCTAssertTrue(r.warnings.contains { $0.contains("BadEntity") && $0.contains("&bogus;") }, "\(r.warnings)")
    }

    func testTruncatedMidPageReturnsCompletePagesAndReportsTheCut() throws {
        let full = mediawikiXML([page("One", id: 1, text: "First."), page("Two", id: 2, text: "Second, a longer text.")])
        let cut = String(full[..<full.range(of: "a longer")!.lowerBound])
        for name in ["cut.xml", "cut.xml.zst", "cut.xml.bz2"] {
            var bytes = Array(cut.utf8)
            if name.hasSuffix(".zst") { bytes = zstd(bytes) }
            if name.hasSuffix(".bz2") { bytes = bzip2(bytes) }
            let (docs, r) = try readAll(bytes: bytes, name: name)
            XCTAssertEqual(docs.map(\.title), ["One"], name)
            XCTAssertEqual(r.pages, 1, name)
            XCTAssertTrue(r.truncated, name)
            XCTAssertTrue(r.truncationDetail?.contains("'Two' (id 2)") ?? false, r.truncationDetail ?? "nil")
        }
    }

    func testTruncatedCompressedStreamIsReportedNotThrown() throws {
        let pages = (1...400).map { page("Page \($0)", id: $0, text: "Text number \($0) with some words to compress. " + String(repeating: "filler \($0) ", count: 50)) }
        let xml = Array(mediawikiXML(pages).utf8)
        // 100 kB bzip2 blocks, so that the first blocks survive the cut.
        for (name, packed) in [("t.xml.bz2", bzip2(xml, blockSize100k: 1)), ("t.xml.zst", zstd(xml))] {
            let cut = Array(packed.prefix(packed.count * 2 / 3))
            let (docs, r) = try readAll(bytes: cut, name: name)
            XCTAssertTrue(r.truncated, name)
            XCTAssertLessThan(docs.count, 400, name)
            XCTAssertGreaterThan(docs.count, 0, name)
            // Every returned page is complete and in order.
            for (k, d) in docs.enumerated() { XCTAssertEqual(d.title, "Page \(k + 1)", name) }
        }
    }

    func testMultistreamBzip2() throws {
        // Wikimedia's multistream dumps: header, pages in groups, footer — each its own bzip2 stream.
        let xml = mediawikiXML((1...30).map { page("P\($0)", id: $0, text: "Body \($0).") })
        let head = String(xml[..<xml.range(of: "  <page>")!.lowerBound])
        let tailStart = xml.range(of: "</mediawiki>")!.lowerBound
        let body = String(xml[xml.range(of: "  <page>")!.lowerBound..<tailStart])
        let pageChunks = body.components(separatedBy: "  <page>").filter { !$0.isEmpty }.map { "  <page>" + $0 }
        var bytes = bzip2(Array(head.utf8))
        for group in stride(from: 0, to: pageChunks.count, by: 7) {
            bytes += bzip2(Array(pageChunks[group..<min(group + 7, pageChunks.count)].joined().utf8))
        }
        bytes += bzip2(Array(String(xml[tailStart...]).utf8))
        let (docs, r) = try readAll(bytes: bytes, name: "multi.xml.bz2")
        XCTAssertEqual(r.compression, .bzip2)
        XCTAssertEqual(docs.count, 30)
        XCTAssertEqual(docs.last?.text, "Body 30.")
        XCTAssertFalse(r.truncated)
        XCTAssertEqual(r.decodedBytes, xml.utf8.count)
    }

    func testGarbageAndUnsupportedInputs() throws {
        // Random bytes named .xml: no <mediawiki> root → a clear error.
        var rng = SystemRandomNumberGenerator()
        let garbage = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        XCTAssertThrowsError(try readAll(bytes: [0x3C] + garbage, name: "garbage.xml")) { error in
            XCTAssertTrue((error as? CorpusError)?.errorDescription?.contains("garbage.xml") ?? false)
        }
        // Garbage as a text corpus: lines are skipped as invalid UTF-8 or kept, never a crash.
        let (_, r) = try readAll(bytes: garbage, name: "garbage.txt")
        XCTAssertEqual(r.format, .plainText)
        XCTAssertEqual(r.pages, r.documents + r.skipped(.invalidUTF8))
        // Corrupt zstd after a valid magic: reported as a cut, nothing returned.
        XCTAssertThrowsError(try readAll(bytes: [0x28, 0xB5, 0x2F, 0xFD] + garbage, name: "x.zst"))
        XCTAssertThrowsError(try readAll(bytes: [0x1F, 0x8B, 8, 0] + garbage, name: "x.gz")) { error in
            XCTAssertEqual(error as? CorpusError, .unsupportedCompression(path: "x.gz", codec: "gzip"))
        }
        XCTAssertThrowsError(try DocumentReader(path: "/nonexistent/dump.xml.bz2")) { error in
            guard case .cannotOpen(let path, _)? = error as? CorpusError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/dump.xml.bz2")
        }
        // A compressed file cut before its first block: empty, reported as cut, no error.
        let (cutDocs, cutReport) = try readAll(bytes: Array(bzip2(Array("<mediawiki>".utf8)).prefix(20)), name: "x.xml.bz2")
        XCTAssertEqual(cutDocs.count, 0)
        XCTAssertTrue(cutReport.truncated)
        let (emptyDocs, emptyReport) = try readAll(bytes: [], name: "empty.txt")
        XCTAssertEqual(emptyDocs.count, 0)
        XCTAssertEqual(emptyReport.pages, 0)
    }

    func testJSONLinesShards() throws {
        let lines = [
            #"{"id": 12, "url": "https://en.wikipedia.org/wiki?curid=12", "title": "Anarchism", "text": "Anarchism is a philosophy."}"#,
            #"{"id": "13", "text": "Second\ndocument \u00e9."}"#,
            "",
            "not json",
            #"{"title": "no text"}"#,
            #"["an", "array"]"#,
            #"{"text": "   "}"#,
            #"{"text": "last, cut"#,
        ]
        let bytes = Array(lines.joined(separator: "\n").utf8)
        for (name, data) in [("s.jsonl", bytes), ("s.jsonl.zst", zstd(bytes)), ("shard", bytes)] {
            let (docs, r) = try readAll(bytes: data, name: name)
            XCTAssertEqual(r.format, .jsonLines, name)
            XCTAssertEqual(docs.count, 2, name)
            XCTAssertEqual(docs[0], Document(title: "Anarchism", id: "12", text: "Anarchism is a philosophy.", url: "https://en.wikipedia.org/wiki?curid=12"))
            XCTAssertEqual(docs[1].text, "Second\ndocument é.")
            XCTAssertEqual(docs[1].title, "line 2")
            XCTAssertEqual(r.skipped(.malformed), 3, name)
            XCTAssertEqual(r.skipped(.missingText), 2, name)
            XCTAssertTrue(r.truncated, "the unterminated last line did not parse")
        }
    }

    func testMinCharsFilter() throws {
        let (docs, r) = try readAll(bytes: Array("short\na much longer line of text\n".utf8), name: "c.txt",
                                    options: .init(minChars: 10))
        XCTAssertEqual(docs.map(\.text), ["a much longer line of text"])
        XCTAssertEqual(r.skipped(.tooShort), 1)
        XCTAssertThrowsError(try DocumentReader(bytes: [], name: "x.txt", options: .init(minChars: -1)))
    }

    func testPageLargerThanTheReadBufferAndSplitTags() throws {
        // Pages spanning many 1 MiB buffer refills, and tags straddling refills.
        let big = String(repeating: "word ", count: 600_000)
        let xml = mediawikiXML([page("Small", id: 1, text: "a"), page("Big", id: 2, text: big), page("After", id: 3, text: "b")])
        let (docs, _) = try readAll(bytes: Array(xml.utf8), name: "big.xml")
        XCTAssertEqual(docs.map(\.title), ["Small", "Big", "After"])
        XCTAssertEqual(docs[1].text.utf8.count, big.utf8.count - 1)  // trailing space trimmed
    }

    private func firstIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}

extension ReaderRobustnessTests {
    func testNamespaceFromTitleWhenNsIsMissingAndRawWikitextOption() throws {
        // Old exports have no <ns>: the namespace comes from the title prefix and <siteinfo>.
        let pages = [
            page("Tập tin:X.jpg", id: 1, text: "file page").replacingOccurrences(of: "    <ns>0</ns>\n", with: ""),
            page("Hà Nội", id: 2, text: "'''Hà Nội''' là [[thủ đô]].").replacingOccurrences(of: "    <ns>0</ns>\n", with: ""),
        ]
        let bytes = Array(mediawikiXML(pages).utf8)
        let (docs, r) = try readAll(bytes: bytes, name: "old.xml")
        XCTAssertEqual(docs.map(\.text), ["Hà Nội là thủ đô."])
        XCTAssertEqual(r.skipped(.notArticleNamespace), 1)
        let (raw, _) = try readAll(bytes: bytes, name: "old.xml", options: .init(cleanWikitext: false))
        XCTAssertEqual(raw.map(\.text), ["'''Hà Nội''' là [[thủ đô]]."])
        let reader = try DocumentReader(bytes: bytes, name: "old.xml")
        XCTAssertEqual(reader.siteInfo?.dbname, "testwiki")
        XCTAssertEqual(reader.siteInfo?.namespaces[0], "")
        XCTAssertEqual(reader.siteInfo?.namespaces[6], "Tập tin")
    }

    func testFormatOverrideAndSniffing() throws {
        // Content sniffing when the name says nothing; an explicit format wins over the name.
        let xml = Array(mediawikiXML([page("A", id: 1, text: "Alpha.")]).utf8)
        XCTAssertEqual(try readAll(bytes: zstd(xml), name: "dump-shard-7").1.format, .mediawikiXML)
        let (docs, r) = try readAll(bytes: Array("{\"text\": \"x\"}\n".utf8), name: "a.txt", options: .init(format: .jsonLines))
        XCTAssertEqual(r.format, .jsonLines)
        XCTAssertEqual(docs.map(\.text), ["x"])
    }
}
