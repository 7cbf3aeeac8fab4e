import Foundation
import ModelIO
import Tokenizers
import XCTest

/// Broken or unsupported tokenizer descriptions must give a clear error, never a crash.
final class MalformedInputTests: XCTestCase {
    func loadGGUF(_ kvs: [(String, MiniGGUF.Value)]) throws -> Tokenizer {
        let url = try MiniGGUF.write(kvs)
        defer { try? FileManager.default.removeItem(at: url) }
        return try TokenizerLoader.load(gguf: GGUFFile(url: url))
    }

    /// Asserts a TokenizerError whose message contains every one of `fragments`.
    func expectError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard error is TokenizerError else { return XCTFail("expected TokenizerError, got \(error)", file: file, line: line) }
            let message = error.localizedDescription
            for f in fragments {
                XCTAssertTrue(message.contains(f), "'\(message)' should mention '\(f)'", file: file, line: line)
            }
        }
    }

    let tokens: [String] = ["a", "b", "ab"]

    func testGGUFErrors() {
        expectError(["tokenizer.ggml.model", "missing"]) { try self.loadGGUF([("general.architecture", .string("llama"))]) }
        expectError(["'bert'", "gpt2", "llama"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("bert")), ("tokenizer.ggml.tokens", .strings(self.tokens))])
        }
        expectError(["tokenizer.ggml.model", "string"]) { try self.loadGGUF([("tokenizer.ggml.model", .u32(2))]) }
        expectError(["tokenizer.ggml.tokens", "missing"]) { try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2"))]) }
        expectError(["tokenizer.ggml.tokens", "array of strings"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .i32s([1, 2]))])
        }
        expectError(["'mystery'", "tokenizer.ggml.pre", "gpt2", "llama-bpe", "qwen2"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.pre", .string("mystery")), ("tokenizer.ggml.merges", .strings(["a b"]))])
        }
        expectError(["tokenizer.ggml.merges", "missing"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(self.tokens))])
        }
        expectError(["merges[1]", "'a c'"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.merges", .strings(["a b", "a c"]))])
        }
        expectError(["merges[0]", "two tokens"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.merges", .strings(["ab"]))])
        }
        expectError(["tokenizer.ggml.token_type", "3"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.token_type", .i32s([1])), ("tokenizer.ggml.merges", .strings(["a b"]))])
        }
        expectError(["tokenizer.ggml.scores", "missing"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(self.tokens))])
        }
        expectError(["tokenizer.ggml.scores", "one per token"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.scores", .f32s([0]))])
        }
        // add_bos_token (the default for llama) without a BOS id.
        expectError(["tokenizer.ggml.bos_token_id", "missing"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.scores", .f32s([0, 0, 0]))])
        }
        expectError(["tokenizer.ggml.add_bos_token", "boolean"]) {
            try self.loadGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(self.tokens)),
                               ("tokenizer.ggml.scores", .f32s([0, 0, 0])), ("tokenizer.ggml.add_bos_token", .string("yes"))])
        }
    }

    func testMinimalValidFilesLoad() throws {
        // The same shapes as above with the missing pieces supplied: proves the errors come from
        // what each case breaks.
        let gpt2 = try loadGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(tokens)),
                                 ("tokenizer.ggml.merges", .strings(["a b"]))])
        XCTAssertEqual(gpt2.encode("ab", addSpecialTokens: true), [2])
        let llama = try loadGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(tokens)),
                                  ("tokenizer.ggml.scores", .f32s([0, 0, 0])), ("tokenizer.ggml.add_space_prefix", .bool(false)),
                                  ("tokenizer.ggml.add_bos_token", .bool(false))])
        XCTAssertEqual(llama.encode("ab", addSpecialTokens: true), [2])
    }

    func writeJSON(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    func loadJSON(_ text: String, config: String? = nil) throws -> Tokenizer {
        let url = try writeJSON(text)
        defer { try? FileManager.default.removeItem(at: url) }
        let configURL = try config.map(writeJSON)
        defer { if let configURL { try? FileManager.default.removeItem(at: configURL) } }
        return try TokenizerLoader.load(tokenizerJSON: url, tokenizerConfig: configURL)
    }

    static let validModel = #""model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#
    static let byteLevel = #""pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#

    func testJSONErrors() throws {
        expectError(["not valid JSON"]) { try self.loadJSON("{\"model\": ") }
        expectError(["not a JSON object"]) { try self.loadJSON("[1, 2]") }
        expectError(["cannot read"]) {
            try TokenizerLoader.load(tokenizerJSON: URL(fileURLWithPath: "/nonexistent/tokenizer.json"), tokenizerConfig: nil)
        }
        expectError(["'model'", "missing"]) { try self.loadJSON("{}") }
        expectError(["'Unigram'", "model.type", "BPE"]) {
            try self.loadJSON(#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#)
        }
        expectError(["'BertPreTokenizer'", "pre_tokenizer", "ByteLevel", "Metaspace"]) {
            try self.loadJSON("{\(Self.validModel), \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}")
        }
        expectError(["pre_tokenizer", "'none'", "Metaspace"]) { try self.loadJSON("{\(Self.validModel)}") }
        expectError(["'Replace(\"x\")'", "normalizer"]) {
            try self.loadJSON("{\(Self.validModel), \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \"x\"}, \"content\": \"y\"}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}")
        }
        expectError(["not valid JSON", "invalid escape"]) { try self.loadJSON("{\"a\": \"\\q\"}") }
        expectError(["not valid JSON", "nesting"]) { try self.loadJSON("{\"a\": " + String(repeating: "[", count: 5000)) }
        expectError(["not valid JSON", "after the document"]) { try self.loadJSON("{} {}") }
        expectError(["'Lowercase'", "normalizer", "NFC"]) {
            try self.loadJSON("{\(Self.validModel), \(Self.byteLevel), \"normalizer\": {\"type\": \"Lowercase\"}}")
        }
        expectError(["'WordPiece'", "decoder"]) {
            try self.loadJSON("{\(Self.validModel), \(Self.byteLevel), \"decoder\": {\"type\": \"WordPiece\"}}")
        }
        expectError(["'BertProcessing'", "post_processor"]) {
            try self.loadJSON("{\(Self.validModel), \(Self.byteLevel), \"post_processor\": {\"type\": \"BertProcessing\"}}")
        }
        expectError(["Split with regex"]) {
            try self.loadJSON("{\(Self.validModel), \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}}")
        }
        expectError(["model.merges[0]"]) {
            try self.loadJSON(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}, "pre_tokenizer": {"type": "ByteLevel"}}"#)
        }
        expectError(["model.vocab"]) {
            try self.loadJSON(#"{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}"#)
        }
        expectError(["merges[0]", "'a c'"]) {
            try self.loadJSON(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "c"]]}, "pre_tokenizer": {"type": "ByteLevel"}}"#)
        }
        expectError(["bos_token", "'<s>'"]) {
            try self.loadJSON("{\(Self.validModel), \(Self.byteLevel)}", config: #"{"bos_token": "<s>"}"#)
        }
    }

    func testJSONValidShapesLoad() throws {
        let tok = try loadJSON("{\(Self.validModel), \(Self.byteLevel)}")
        XCTAssertEqual(tok.encode("ab", addSpecialTokens: true), [2])
        // TemplateProcessing and tokenizer_config decide BOS/EOS.
        let withAdded = #"""
        {"added_tokens": [{"id": 3, "content": "<s>", "special": true}, {"id": 4, "content": "</s>", "special": true}],
         "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]},
         "pre_tokenizer": {"type": "ByteLevel", "use_regex": true},
         "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                            "special_tokens": {"<s>": {"id": "<s>", "ids": [3], "tokens": ["<s>"]}}},
         "decoder": {"type": "ByteLevel"}}
        """#
        let t1 = try loadJSON(withAdded)
        XCTAssertEqual(t1.encode("ab</s>", addSpecialTokens: true), [3, 2, 4])
        XCTAssertEqual(t1.encode("ab", addSpecialTokens: false), [2])
        XCTAssertEqual(t1.bosTokenID, 3)
        XCTAssertEqual(t1.decode([3, 2, 4], skipSpecialTokens: true), "ab")
        XCTAssertEqual(t1.decode([3, 2, 4], skipSpecialTokens: false), "<s>ab</s>")
        let t2 = try loadJSON(withAdded, config: #"{"bos_token": {"content": "<s>"}, "eos_token": "</s>", "add_bos_token": false, "add_eos_token": true}"#)
        XCTAssertEqual(t2.encode("ab", addSpecialTokens: true), [2, 4])
        XCTAssertEqual(t2.eosTokenID, 4)
    }
}
