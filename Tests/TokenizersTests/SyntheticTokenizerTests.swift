import Foundation
import ModelIO
import Tokenizers
import XCTest

/// Small hand-made vocabularies whose correct encodings can be worked out by hand.
final class SyntheticTokenizerTests: XCTestCase {
    /// A SentencePiece-style vocabulary: control tokens, 256 byte tokens, pieces with scores.
    func sentencePiece(addSpacePrefix: Bool, addBOS: Bool = true) throws -> Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [Int32] = [2, 3, 3]
        var scores: [Float] = [0, 0, 0]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            types.append(6)
            scores.append(0)
        }
        // Pieces: higher score merges first.
        let pieces: [(String, Float)] = [("▁", -1), ("h", -2), ("e", -3), ("l", -4), ("o", -5), ("w", -6), ("r", -7), ("d", -8),
                                         ("ll", -10), ("he", -11), ("hell", -12), ("hello", -13), ("▁w", -14), ("or", -15),
                                         ("▁wor", -16), ("▁world", -17), ("ld", -18), ("▁▁", -19)]
        for (p, s) in pieces {
            tokens.append(p)
            types.append(1)
            scores.append(s)
        }
        tokens.append("<tag>")
        types.append(4)
        scores.append(0)
        let url = try MiniGGUF.write([
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .i32s(types)),
            ("tokenizer.ggml.scores", .f32s(scores)),
            ("tokenizer.ggml.bos_token_id", .u32(1)),
            ("tokenizer.ggml.eos_token_id", .u32(2)),
            ("tokenizer.ggml.unknown_token_id", .u32(0)),
            ("tokenizer.ggml.add_bos_token", .bool(addBOS)),
            ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)),
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        return try TokenizerLoader.load(gguf: GGUFFile(url: url))
    }

    func ids(_ tok: Tokenizer, _ pieces: [String]) -> [Int32] {
        pieces.map { p in Int32((0..<tok.vocabularySize).first { tok.token(Int32($0)) == p } ?? -1) }
    }

    func testSentencePieceMergesBySpacePrefixAndByteFallback() throws {
        let tok = try sentencePiece(addSpacePrefix: true)
        XCTAssertEqual(tok.bosTokenID, 1)
        XCTAssertEqual(tok.eosTokenID, 2)
        // "hello world" → "▁hello▁world": "▁h…" has no piece, so "▁" stays alone.
        XCTAssertEqual(tok.encode("hello world", addSpecialTokens: true), [1] + ids(tok, ["▁", "hello", "▁world"]))
        // The prefix is not doubled when the text already starts with a space (as transformers does).
        XCTAssertEqual(tok.encode(" world", addSpecialTokens: false), ids(tok, ["▁world"]))
        // "é" is not a piece: its two UTF-8 bytes fall back to byte tokens.
        let e = tok.encode("é", addSpecialTokens: false)
        XCTAssertEqual(e, ids(tok, ["▁", "<0xC3>", "<0xA9>"]))
        XCTAssertEqual(tok.decode(e, skipSpecialTokens: true), "é", "the added prefix space is dropped again")
        XCTAssertEqual(tok.decode(tok.encode("hello  world", addSpecialTokens: true), skipSpecialTokens: true), "hello  world")
        // User-defined tokens are matched whole; the prefix space goes only before the first segment.
        XCTAssertEqual(tok.encode("<tag>he", addSpecialTokens: false), ids(tok, ["<tag>", "he"]))
        XCTAssertEqual(tok.decodedPiece(ids(tok, ["▁world"])[0]), " world")
        XCTAssertEqual(tok.decodedPiece(ids(tok, ["<0x41>"])[0]), "A")
        XCTAssertEqual(tok.token(ids(tok, ["▁world"])[0]), "▁world")
        XCTAssertEqual(tok.decode([1, 2], skipSpecialTokens: false), "<s></s>")
        XCTAssertEqual(tok.decode([1, 2], skipSpecialTokens: true), "")
        XCTAssertEqual(tok.decode([-5, 99_999], skipSpecialTokens: false), "", "ids outside the vocabulary are ignored")
        XCTAssertEqual(tok.token(99_999), "")
    }

    /// Merge strings split at the space byte even when the right part starts with a combining
    /// mark (" \u{301}" is a single Character).
    func testMergeWithCombiningMarkAfterTheSpace() throws {
        let url = try MiniGGUF.write([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .strings(["e", "\u{301}", "e\u{301}"])),
            ("tokenizer.ggml.merges", .strings(["e \u{301}"])),
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let tok = try TokenizerLoader.load(gguf: GGUFFile(url: url))
        XCTAssertEqual(tok.vocabularySize, 3)
    }

    func testSentencePieceWithoutSpacePrefix() throws {
        let tok = try sentencePiece(addSpacePrefix: false, addBOS: false)
        XCTAssertEqual(tok.encode("hello world", addSpecialTokens: true), ids(tok, ["hello", "▁world"]))
        XCTAssertEqual(tok.encode(" world", addSpecialTokens: true), ids(tok, ["▁world"]))
        XCTAssertEqual(tok.decode(ids(tok, ["▁world"]), skipSpecialTokens: true), " world")
        XCTAssertEqual(tok.encode("", addSpecialTokens: true), [])
    }

    /// A byte-level vocabulary with a handful of merges.
    func byteLevel(pre: String) throws -> Tokenizer {
        let alphabet = (0..<256).map { b -> String in
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable { return String(UnicodeScalar(UInt8(b))) }
            return ""
        }
        var tokens = ["<|end|>"]
        var next = 256
        for b in 0..<256 {
            if alphabet[b].isEmpty {
                tokens.append(String(UnicodeScalar(UInt32(next))!))
                next += 1
            } else {
                tokens.append(alphabet[b])
            }
        }
        let merges = ["Ġ t", "h e", "Ġt he", "Ġ Ġ", "1 2", "' S", "3 4"]
        tokens += ["Ġt", "he", "Ġthe", "ĠĠ", "12", "'S", "34"]
        var types = [Int32](repeating: 1, count: tokens.count)
        types[0] = 3
        let url = try MiniGGUF.write([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .i32s(types)),
            ("tokenizer.ggml.merges", .strings(merges)),
            ("tokenizer.ggml.eos_token_id", .u32(0)),
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        return try TokenizerLoader.load(gguf: GGUFFile(url: url))
    }

    func testByteLevelPreTokenizersSplitAsTheirRegexes() throws {
        let gpt2 = try byteLevel(pre: "gpt2")
        func pieces(_ tok: Tokenizer, _ s: String) -> [String] { tok.encode(s, addSpecialTokens: true).map(tok.token) }
        XCTAssertEqual(pieces(gpt2, " the"), ["Ġthe"])
        // `\s+(?!\S)`: of two spaces before a word, the first stands alone.
        XCTAssertEqual(pieces(gpt2, "a  the"), ["a", "Ġ", "Ġthe"])
        XCTAssertEqual(pieces(gpt2, "a   "), ["a", "ĠĠ", "Ġ"])
        // GPT-2 keeps numbers together (so "12" merges); Llama 3 takes up to three digits.
        XCTAssertEqual(pieces(gpt2, "123"), ["12", "3"])
        XCTAssertEqual(pieces(gpt2, "<|end|>x"), ["<|end|>", "x"])
        XCTAssertEqual(gpt2.decode(gpt2.encode("<|end|>x", addSpecialTokens: true), skipSpecialTokens: true), "x")
        XCTAssertNil(gpt2.bosTokenID)
        XCTAssertEqual(gpt2.eosTokenID, 0)
        let digits = try byteLevel(pre: "starcoder")
        XCTAssertEqual(pieces(digits, "123"), ["1", "2", "3"])
        let llama3 = try byteLevel(pre: "llama-bpe")
        // Llama 3 cuts "12345" into "123" + "45", so "3 4" cannot merge; GPT-2 keeps it whole.
        XCTAssertEqual(pieces(llama3, "12345"), ["12", "3", "4", "5"])
        XCTAssertEqual(pieces(gpt2, "12345"), ["12", "34", "5"])
        // Llama 3: "'S" contracts case-insensitively; GPT-2 only in lower case.
        XCTAssertEqual(pieces(llama3, "x'S"), ["x", "'S"])
        XCTAssertEqual(pieces(gpt2, "x'S"), ["x", "'", "S"])
        let qwen = try byteLevel(pre: "qwen2")
        XCTAssertEqual(pieces(qwen, "12"), ["1", "2"])
        for tok in [gpt2, digits, llama3, qwen] {
            for s in ["Tiếng Việt 😀\n\n  x\t\r\n", "", " ", "a'll'VE 12 345"] {
                XCTAssertEqual(tok.decode(tok.encode(s, addSpecialTokens: true), skipSpecialTokens: true), s)
            }
        }
    }
}
