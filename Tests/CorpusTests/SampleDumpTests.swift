import XCTest
@testable import Corpus

/// Counts on the real dump samples in `shared/data/wiki` (numbers from `data/SOURCES.md`).
final class SampleDumpTests: XCTestCase {
    /// `literalQuotes`: titles allowed to show `'''` because their source has it inside `<nowiki>`.
    func check(_ file: String, pages: Int, articles: Int, truncated: Bool, compression: Compression,
               literalQuotes: Set<String> = [], file line: UInt = #line) throws -> (DocumentReader, [Document]) {
        let reader = try DocumentReader(path: try samplePath("wiki/" + file))
        let docs = try reader.readAll()
        let r = reader.report
        XCTAssertEqual(r.format, .mediawikiXML, line: line)
        XCTAssertEqual(r.compression, compression, line: line)
        XCTAssertEqual(r.pages, pages, "complete pages", line: line)
        XCTAssertEqual(r.articles, articles, "namespace-0 non-redirect pages", line: line)
        XCTAssertEqual(r.truncated, truncated, line: line)
        XCTAssertEqual(r.warningCount, 0, "no bad input in the samples: \(r.warnings)", line: line)
        // Every article becomes a document unless nothing visible is left (e.g. a main page made of templates).
        XCTAssertEqual(r.documents + r.skipped(.emptyAfterCleaning), articles, line: line)
        XCTAssertEqual(r.documents, docs.count, line: line)
        XCTAssertEqual(r.pages, articles + r.skipped(.notArticleNamespace) + r.skipped(.redirect), line: line)
        for d in docs {
            XCTAssertFalse(d.text.isEmpty, line: line)
            XCTAssertFalse(d.text.contains("{{"), "template left in \(d.title)", line: line)
            XCTAssertFalse(d.text.contains("[[Category:"), "category link left in \(d.title)", line: line)
            XCTAssertFalse(d.text.contains("<ref"), "reference left in \(d.title)", line: line)
            if !literalQuotes.contains(d.title) {
                XCTAssertFalse(d.text.contains("'''"), "bold markup left in \(d.title)", line: line)
            }
        }
        return (reader, docs)
    }

    func testEnglishSample() throws {
        let (reader, docs) = try check("enwiki-sample.xml.bz2", pages: 206, articles: 106, truncated: false, compression: .bzip2)
        XCTAssertEqual(reader.report.decodedBytes, 6_089_746)
        XCTAssertEqual(reader.siteInfo?.dbname, "enwiki")
        let anarchism = try XCTUnwrap(docs.first { $0.title == "Anarchism" })
        XCTAssertEqual(anarchism.id, "12")
        XCTAssertTrue(anarchism.text.hasPrefix("Anarchism is a political philosophy that advocates self-governed societies"))
        XCTAssertTrue(anarchism.text.contains("\nEtymology and terminology\n"))
    }

    func testVietnameseSampleIsCutInTheLastPage() throws {
        let (reader, docs) = try check("viwiki-20230501-sample.xml.zst", pages: 970, articles: 274, truncated: true, compression: .zstd)
        XCTAssertEqual(reader.siteInfo?.namespaces[6], "Tập tin")
        XCTAssertEqual(reader.siteInfo?.namespaces[14], "Thể loại")
        XCTAssertEqual(reader.report.decodedBytes, 15_278_627)
        XCTAssertTrue(reader.report.truncationDetail?.contains("Hà Lan") ?? false, reader.report.truncationDetail ?? "")
        XCTAssertFalse(docs.contains { $0.title == "Hà Lan" }, "the cut page must not be returned")
        XCTAssertFalse(docs.contains { $0.text.contains("[[Tập tin:") || $0.text.contains("[[Thể loại:") })
    }

    func testJapaneseSample() throws {
        let (_, docs) = try check("jawiki-20230501-sample.xml.zst", pages: 238, articles: 189, truncated: true, compression: .zstd)
        let profile = try ScriptProfile(language: "ja")
        let inScript = docs.filter { profile.matches($0.text) }.count
        XCTAssertGreaterThan(Double(inScript) / Double(docs.count), 0.9)
    }

    func testBengaliSample() throws {
        // "বাস্তব সংখ্যা" writes <nowiki>'''e'''</nowiki>, which MediaWiki shows with the apostrophes.
        _ = try check("bnwiki-20230501-sample.xml.zst", pages: 722, articles: 380, truncated: true, compression: .zstd,
                      literalQuotes: ["বাস্তব সংখ্যা"])
    }

    func testPLNDTextCorpus() throws {
        let reader = try DocumentReader(path: try samplePath("plnd-corpus/english.txt"))
        var n = 0
        var first: Document?
        while let d = try reader.next() {
            if first == nil { first = d }
            n += 1
        }
        XCTAssertEqual(reader.report.format, .plainText)
        XCTAssertEqual(n, 10_000)
        XCTAssertEqual(first?.id, "1")
        XCTAssertTrue(first?.text.hasPrefix("We are the world’s travel platform.") ?? false)
    }
}
