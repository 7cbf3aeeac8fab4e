import Foundation
import TestSupport
import Tokenizers
import XCTest

/// The Llama 3, Qwen 2, digit-splitting and add-prefix-space(+NFC) pre-tokenizers, checked
/// through SmolLM2's tokenizer.json with its pre-tokenizer swapped: with the same merges, the
/// ids differ whenever the word split does. Expected ids: Hugging Face tokenizers
/// (`PreTokenizerOracleData.swift`).
final class PreTokenizerOracleTests: XCTestCase {
    struct Entry: Decodable {
        let text: String
        let llama3: [Int32]
        let qwen2: [Int32]
        let digits: [Int32]
        let prefix_nfc: [Int32]
    }

    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func split(_ regex: String) -> String {
        let pattern = "\"" + regex.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        return #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": \#(pattern)}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}"#
    }

    /// SmolLM2's tokenizer.json with another pre-tokenizer (and normalizer).
    func variant(preTokenizer: String, normalizer: String? = nil) throws -> Tokenizer {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not available") }
        var text = try String(contentsOf: SharedData.url("reference/tiny/llama/model/tokenizer.json"), encoding: .utf8)
        let original = """
          "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": false,
            "trim_offsets": true,
            "use_regex": true
          },
        """
        guard let r = text.range(of: original) else {
            XCTFail("tokenizer.json layout changed: pre_tokenizer block not found")
            throw XCTSkip("cannot build variant")
        }
        text.replaceSubrange(r, with: "  \"pre_tokenizer\": \(preTokenizer),\n")
        if let normalizer {
            guard let n = text.range(of: "\"normalizer\": null") else {
                XCTFail("tokenizer.json layout changed: normalizer not found")
                throw XCTSkip("cannot build variant")
            }
            text.replaceSubrange(n, with: "\"normalizer\": \(normalizer)")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pre-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try TokenizerLoader.load(tokenizerJSON: url, tokenizerConfig: nil)
    }

    func compare(_ tok: Tokenizer, _ label: String, _ expected: (Entry) -> [Int32]) throws {
        let entries = try JSONDecoder().decode([Entry].self, from: Data(PreTokenizerOracle.json.utf8))
        XCTAssertGreaterThan(entries.count, 150)
        var matched = 0
        for e in entries {
            let got = tok.encode(e.text, addSpecialTokens: true)
            if got == expected(e) { matched += 1 } else {
                XCTFail("\(label): \(e.text.debugDescription)\n  expected \(expected(e))\n  got      \(got)")
            }
        }
        print("\(label): \(matched)/\(entries.count) match")
    }

    func testLlama3Split() throws { try compare(try variant(preTokenizer: Self.split(Self.llama3)), "llama3 split") { $0.llama3 } }
    func testQwen2Split() throws { try compare(try variant(preTokenizer: Self.split(Self.qwen2)), "qwen2 split") { $0.qwen2 } }

    func testIndividualDigits() throws {
        let pre = #"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}"#
        try compare(try variant(preTokenizer: pre), "digits") { $0.digits }
    }

    func testAddPrefixSpaceWithNFC() throws {
        let pre = #"{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}"#
        try compare(try variant(preTokenizer: pre, normalizer: #"{"type": "NFC"}"#), "prefix+NFC") { $0.prefix_nfc }
    }
}
