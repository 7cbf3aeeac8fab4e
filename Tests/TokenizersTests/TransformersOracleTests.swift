import Foundation
import ModelIO
import TestSupport
import Tokenizers
import XCTest

/// Extra strings beyond the manifests, compared with the ids transformers produces
/// (`TransformersOracleData.swift`): runs of spaces, contractions, digits after spaces,
/// special-token look-alikes, and random Wikipedia excerpts.
final class TransformersOracleTests: XCTestCase {
    struct Entry: Decodable {
        let text: String
        let gemma3: [Int32]
        let smollm2: [Int32]
        let tokenizer_json: [Int32]
    }

    func entries() throws -> [Entry] {
        let e = try JSONDecoder().decode([Entry].self, from: Data(TransformersOracle.json.utf8))
        XCTAssertGreaterThan(e.count, 100)
        return e
    }

    func compare(_ tok: Tokenizer, _ label: String, _ expected: (Entry) -> [Int32]) throws {
        var matched = 0
        let all = try entries()
        for e in all {
            let got = tok.encode(e.text, addSpecialTokens: false)
            if got == expected(e) { matched += 1 } else {
                XCTFail("\(label): \(e.text.debugDescription.prefix(120))\n  expected \(expected(e))\n  got      \(got)")
            }
        }
        print("\(label): \(matched)/\(all.count) transformers strings match")
    }

    func testGemma3() throws {
        guard let url = TestModels.url(TestModels.gemmaFile) else { throw XCTSkip("model not fetched (set LANGNEURON_MODELS)") }
        try compare(try TokenizerLoader.load(gguf: GGUFFile(url: url)), "gemma3 GGUF") { $0.gemma3 }
    }

    func testSmolLM2() throws {
        guard let url = TestModels.url(TestModels.smolFile) else { throw XCTSkip("model not fetched (set LANGNEURON_MODELS)") }
        try compare(try TokenizerLoader.load(gguf: GGUFFile(url: url)), "smollm2 GGUF") { $0.smollm2 }
    }

    func testTokenizerJSON() throws {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not available") }
        let tok = try TokenizerLoader.load(tokenizerJSON: SharedData.url("reference/tiny/llama/model/tokenizer.json"), tokenizerConfig: nil)
        try compare(tok, "tokenizer.json") { $0.tokenizer_json }
    }
}
