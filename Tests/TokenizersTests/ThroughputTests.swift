import Foundation
import ModelIO
import TestSupport
import Tokenizers
import XCTest

/// Opt-in throughput measurement (no timing asserts): set `LANGNEURON_TOKENIZER_BENCH` to a
/// UTF-8 text file (e.g. a decompressed Wikipedia sample) and run in release mode:
/// `swift test -c release --filter TokenizerThroughput`.
final class TokenizerThroughputTests: XCTestCase {
    func testThroughput() throws {
        guard let path = ProcessInfo.processInfo.environment["LANGNEURON_TOKENIZER_BENCH"] else {
            throw XCTSkip("set LANGNEURON_TOKENIZER_BENCH=<text file> to measure tokenizer throughput")
        }
        let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        let mb = Double(text.utf8.count) / 1_000_000
        var tokenizers = [(String, Tokenizer)]()
        for file in [TestModels.gemmaFile, TestModels.smolFile] {
            guard let url = TestModels.url(file) else { continue }
            let t0 = Date()
            tokenizers.append((file, try TokenizerLoader.load(gguf: GGUFFile(url: url))))
            print(String(format: "%@: tokenizer loaded in %.2f s", file, Date().timeIntervalSince(t0)))
        }
        // Paragraph-sized pieces, as a corpus pipeline feeds them.
        let paragraphs = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (name, tok) in tokenizers {
            let t0 = Date()
            var count = 0
            for p in paragraphs { count += tok.encode(p, addSpecialTokens: false).count }
            let dt = Date().timeIntervalSince(t0)
            // Round trip of a sample, so the measurement also checks what it measures.
            let sample = paragraphs.prefix(200).joined(separator: "\n")
            XCTAssertEqual(tok.decode(tok.encode(sample, addSpecialTokens: false), skipSpecialTokens: false), sample)
            XCTAssertGreaterThan(count, 0)
            print(String(format: "%@: %.1f MB in %.2f s = %.2f MB/s, %d tokens (%.0f tokens/s)",
                         name, mb, dt, mb / dt, count, Double(count) / dt))
        }
    }
}
