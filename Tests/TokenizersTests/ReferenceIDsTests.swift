import Foundation
import ModelIO
import TestSupport
import Tokenizers
import XCTest

/// Every reference string of the manifests must encode to exactly the model's own ids, and
/// decode back to itself.
final class ReferenceIDsTests: XCTestCase {
    /// `(text, ids)` pairs from a manifest's `tokenizer` list and its `forward` texts.
    static func referencePairs(_ name: String) throws -> [(String, [Int32])] {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ reference data not available") }
        let m = try SharedData.manifest(name)
        var out = [(String, [Int32])]()
        for key in ["tokenizer", "forward"] {
            guard let list = m[key] as? [[String: Any]] else {
                if key == "tokenizer" { XCTFail("\(name): manifest has no tokenizer list") }
                continue
            }
            for e in list {
                guard let text = e["text"] as? String, let ids = e["ids"] as? [Int] else {
                    XCTFail("\(name): \(key) entry without text/ids")
                    continue
                }
                out.append((text, ids.map { Int32($0) }))
            }
        }
        XCTAssertGreaterThan(out.count, 10, "\(name): too few reference strings")
        return out
    }

    static func ggufTokenizer(_ file: String) throws -> Tokenizer {
        guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched (set LANGNEURON_MODELS)") }
        return try TokenizerLoader.load(gguf: GGUFFile(url: url))
    }

    static func check(_ tok: Tokenizer, _ pairs: [(String, [Int32])], stripsBOS: Int32?, label: String) {
        var matched = 0
        for (text, ids) in pairs {
            let got = tok.encode(text, addSpecialTokens: true)
            if got == ids { matched += 1 } else {
                XCTFail("\(label): \(text.debugDescription)\n  expected \(ids)\n  got      \(got)")
            }
            let back = tok.decode(got, skipSpecialTokens: true)
            XCTAssertEqual(back, text, "\(label): round trip")
            if let bos = stripsBOS { XCTAssertEqual(got.first, bos) }
        }
        print("\(label): \(matched)/\(pairs.count) reference strings match")
    }

    func testGemma3GGUF() throws {
        let tok = try Self.ggufTokenizer(TestModels.gemmaFile)
        XCTAssertEqual(tok.vocabularySize, 262_144)
        XCTAssertEqual(tok.bosTokenID, 2)
        XCTAssertEqual(tok.eosTokenID, 1)
        Self.check(tok, try Self.referencePairs("gemma3-270m"), stripsBOS: 2, label: "gemma3-270m")
    }

    func testSmolLM2GGUF() throws {
        let tok = try Self.ggufTokenizer(TestModels.smolFile)
        XCTAssertEqual(tok.vocabularySize, 49_152)
        Self.check(tok, try Self.referencePairs("smollm2-135m"), stripsBOS: nil, label: "smollm2-135m")
    }
}

/// The tiny Hugging Face checkpoints ship SmolLM2's tokenizer as tokenizer.json.
final class ReferenceIDsJSONTests: XCTestCase {
    func testTinyLlamaTokenizerJSON() throws {
        let pairs = try ReferenceIDsTests.referencePairs("tiny/llama")
        let tok = try TokenizerLoader.load(tokenizerJSON: SharedData.url("reference/tiny/llama/model/tokenizer.json"),
                                           tokenizerConfig: nil)
        XCTAssertEqual(tok.vocabularySize, 49_152)
        XCTAssertNil(tok.bosTokenID, "SmolLM2's tokenizer.json adds no BOS")
        ReferenceIDsTests.check(tok, pairs, stripsBOS: nil, label: "tiny/llama (tokenizer.json)")
    }

    func testEveryTinyCheckpointTokenizerMatchesItsManifest() throws {
        for arch in ["gemma3", "mistral", "qwen2", "qwen3"] {
            let pairs = try ReferenceIDsTests.referencePairs("tiny/\(arch)")
            let tok = try TokenizerLoader.load(tokenizerJSON: SharedData.url("reference/tiny/\(arch)/model/tokenizer.json"),
                                               tokenizerConfig: nil)
            ReferenceIDsTests.check(tok, pairs, stripsBOS: nil, label: "tiny/\(arch) (tokenizer.json)")
        }
    }
}
