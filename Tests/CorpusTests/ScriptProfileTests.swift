import XCTest
@testable import Corpus

final class ScriptProfileTests: XCTestCase {
    func testScriptsOfLetters() {
        XCTAssertEqual(Script.of(UInt32(UInt8(ascii: "a"))), .latin)
        XCTAssertNil(Script.of(UInt32(UInt8(ascii: "7"))))
        XCTAssertEqual(Script.of(0x1EA1), .latin)     // ạ (Vietnamese)
        XCTAssertEqual(Script.of(0x0995), .bengali)   // ক
        XCTAssertNil(Script.of(0x09E7))               // Bengali digit one
        XCTAssertEqual(Script.of(0x6771), .han)       // 東
        XCTAssertEqual(Script.of(0x3042), .hiragana)  // あ
        XCTAssertEqual(Script.of(0x30A2), .katakana)  // ア
        XCTAssertEqual(Script.of(0x0416), .cyrillic)  // Ж
        XCTAssertEqual(Script.of(0x0E01), .thai)      // ก
        XCTAssertEqual(Script.of(0x0628), .arabic)    // ب
        XCTAssertNil(Script.of(0x0301))               // combining acute
        XCTAssertNil(Script.of(0x3002))               // 。
    }

    func testFractions() throws {
        let ja = try ScriptProfile(language: "ja")
        // 8 letters: 6 Han/kana + 2 Latin → 6/8 (exact ratio of counts).
        XCTAssertEqual(ja.fraction(of: "日本語のかな AB 123。"), 6.0 / 8.0, accuracy: 1e-12)
        XCTAssertEqual(try ScriptProfile(language: "vi").fraction(of: "Tiếng Việt"), 1.0, accuracy: 1e-12)
        XCTAssertEqual(try ScriptProfile(language: "bn").fraction(of: "বাংলা English"), 5.0 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(ja.fraction(of: "123 !!"), 1.0, "no letters: nothing contradicts the profile")
        XCTAssertTrue(try ScriptProfile(language: "zh-Hans").scripts.contains(.han))
        XCTAssertThrowsError(try ScriptProfile(language: "xx")) { error in
            XCTAssertEqual(error as? CorpusError, .unknownLanguage(code: "xx"))
        }
    }

    func testJapaneseSampleHasProjectPagesInOtherScripts() throws {
        // Project pages are filtered by namespace; among articles, the script check flags few.
        let path = try samplePath("wiki/jawiki-20230501-sample.xml.zst")
        let reader = try DocumentReader(path: path)
        var stats = CorpusStats(profile: try ScriptProfile(language: "ja"))
        while let d = try reader.next() { stats.add(d) }
        XCTAssertEqual(stats.documents, 189)
        XCTAssertGreaterThan(stats.expectedScriptFraction ?? 0, 0.8)
        XCTAssertLessThan(stats.offScriptDocuments, 19, "under 10% of articles mostly in another script")
    }
}
