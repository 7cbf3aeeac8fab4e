import Foundation
import ModelIO
import TestSupport
import Tokenizers
import XCTest

/// decode(encode(s)) == s on multilingual and odd text, special tokens in the text, and
/// streaming decoding of characters split across tokens — on the real default tokenizers.
final class RoundTripAndStreamingTests: XCTestCase {
    static let texts: [String] = [
        "Tiếng Việt là ngôn ngữ chính thức của Việt Nam; người Việt có khoảng 86 triệu người nói.",
        "日本語は、主に日本で使われている言語である。ひらがな・カタカナ・漢字を用いる。",
        "বাংলা ভাষা দক্ষিণ এশিয়ার একটি ইন্দো-আর্য ভাষা। ক্ষ্ম ঞ্জ",
        "emoji 😀👍🏽 👨‍👩‍👧‍👦 🇻🇳 🫨 and ✓ marks",
        "rare scripts 𠀋 𪚥 𓀀 ꙮ 𝔘𝔫𝔦 ᚠᚢᚦ 𐌰𐌱",
        "invalid-looking bytes: \u{FFFD}\u{FFFD} Ã© â€™ <0xE3><0x81> \\xff \u{0}\u{1}\u{7F} \u{FEFF}bom \u{200B}zw\u{200D}j",
        "combining e\u{301} vs é, Hangul 한국어 \u{1100}\u{1161}\u{11A8}",
        "whitespace  \t\t  \n\n\n   \r\n \u{A0}\u{3000}x   ",
        String(repeating: " ", count: 70) + String(repeating: "\n", count: 40) + String(repeating: "\t", count: 35),
        "code: for (int i = 0; i < n; ++i) { x[i] *= 2; } // done\n\tif a != b:\n\t\treturn None",
        "",
    ]

    static func tokenizers() throws -> [(String, Tokenizer)] {
        var out = [(String, Tokenizer)]()
        for file in [TestModels.gemmaFile, TestModels.smolFile] {
            guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched (set LANGNEURON_MODELS)") }
            out.append((file, try TokenizerLoader.load(gguf: GGUFFile(url: url))))
        }
        if SharedData.isAvailable {
            out.append(("tiny/llama tokenizer.json", try TokenizerLoader.load(
                tokenizerJSON: SharedData.url("reference/tiny/llama/model/tokenizer.json"), tokenizerConfig: nil)))
        }
        return out
    }

    func testRoundTripOnMultilingualAndOddText() throws {
        for (name, tok) in try Self.tokenizers() {
            for text in Self.texts {
                for special in [true, false] {
                    let ids = tok.encode(text, addSpecialTokens: special)
                    XCTAssertEqual(tok.decode(ids, skipSpecialTokens: true), text, "\(name): \(text.debugDescription)")
                    XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tok.vocabularySize }, name)
                }
            }
        }
    }

    /// One tokenizer used from several threads at once (its word cache is shared) gives the
    /// same ids as used from one.
    func testConcurrentEncodingGivesTheSameIds() throws {
        for (name, tok) in try Self.tokenizers() {
            let expected = Self.texts.map { tok.encode($0, addSpecialTokens: true) }
            let rounds = 64
            var results = [[Int32]?](repeating: nil, count: rounds)
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: rounds) { k in
                let ids = tok.encode(Self.texts[k % Self.texts.count] + " \(k)", addSpecialTokens: true)
                lock.lock()
                results[k] = ids
                lock.unlock()
            }
            for k in 0..<rounds {
                let text = Self.texts[k % Self.texts.count] + " \(k)"
                XCTAssertEqual(results[k], tok.encode(text, addSpecialTokens: true), "\(name): \(text.debugDescription)")
            }
            XCTAssertEqual(Self.texts.map { tok.encode($0, addSpecialTokens: true) }, expected, name)
        }
    }

    func testStreamingDecoderEmitsOnlyCompleteCharacters() throws {
        for (name, tok) in try Self.tokenizers() {
            for text in Self.texts {
                let ids = tok.encode(text, addSpecialTokens: true)
                var stream = StreamingDecoder(tokenizer: tok)
                var out = ""
                for id in ids {
                    let piece = stream.push(id)
                    if !text.contains("\u{FFFD}") {
                        XCTAssertFalse(piece.contains("\u{FFFD}"), "\(name): a partial character was emitted for \(text.debugDescription)")
                    }
                    out += piece
                }
                out += stream.flush()
                XCTAssertEqual(out, tok.decode(ids, skipSpecialTokens: true), "\(name)")
            }
        }
    }

    /// A character the vocabulary lacks is split into byte tokens (Gemma: `<0xXX>` fallback,
    /// SmolLM: byte-level pieces); the streaming decoder holds it back until its last byte.
    func testStreamingDecoderOnASplitCharacter() throws {
        for (name, tok) in try Self.tokenizers() {
            let ids = tok.encode("𠀋", addSpecialTokens: false)
            XCTAssertGreaterThan(ids.count, 1, "\(name): expected the character to take several tokens")
            var stream = StreamingDecoder(tokenizer: tok)
            for id in ids.dropLast() {
                XCTAssertEqual(stream.push(id), "", "\(name): nothing may come out before the last byte")
            }
            XCTAssertEqual(stream.push(ids[ids.count - 1]), "𠀋", name)
            // Each piece alone is an incomplete character.
            XCTAssertEqual(tok.decodedPiece(ids[0]), "\u{FFFD}", name)
            // A character cut off at the end comes out as U+FFFD on flush.
            var cut = StreamingDecoder(tokenizer: tok)
            XCTAssertEqual(cut.push(ids[0]), "")
            XCTAssertEqual(cut.flush(), "\u{FFFD}")
            XCTAssertEqual(cut.push(ids[0]) + cut.flush(), "\u{FFFD}", "the decoder is reusable after flush")
        }
    }

    func testSpecialTokensInTextAndSpecialTokenFlags() throws {
        guard let g = TestModels.url(TestModels.gemmaFile), let s = TestModels.url(TestModels.smolFile) else {
            throw XCTSkip("models not fetched (set LANGNEURON_MODELS)")
        }
        let gemma = try TokenizerLoader.load(gguf: GGUFFile(url: g))
        let turn = gemma.encode("<start_of_turn>user\nHi<end_of_turn>", addSpecialTokens: true)
        XCTAssertEqual(Array(turn.prefix(2)), [2, 105])
        XCTAssertEqual(turn.last, 106)
        XCTAssertEqual(gemma.decode(turn, skipSpecialTokens: false), "<bos><start_of_turn>user\nHi<end_of_turn>")
        XCTAssertEqual(gemma.decode(turn, skipSpecialTokens: true), "user\nHi")
        XCTAssertEqual(gemma.encode("x", addSpecialTokens: false).first, gemma.encode("x", addSpecialTokens: true).last)
        XCTAssertEqual(gemma.token(138), "  ")
        XCTAssertEqual(gemma.decodedPiece(138), "  ")
        XCTAssertEqual(gemma.decodedPiece(532), " and")
        XCTAssertEqual(gemma.token(532), "▁and")

        let smol = try TokenizerLoader.load(gguf: GGUFFile(url: s))
        XCTAssertEqual(smol.bosTokenID, 1)
        XCTAssertEqual(smol.eosTokenID, 2)
        let chat = smol.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: true)
        XCTAssertEqual(chat.first, 1)
        XCTAssertEqual(chat.last, 2)
        XCTAssertEqual(smol.decode(chat, skipSpecialTokens: false), "<|im_start|>user\nHi<|im_end|>")
        let hello = smol.encode(" hello", addSpecialTokens: false)
        XCTAssertEqual(hello.count, 1)
        XCTAssertEqual(smol.token(hello[0]), "Ġhello")
        XCTAssertEqual(smol.decodedPiece(hello[0]), " hello")
    }
}
