import Foundation
import Kernels
@testable import Models
import XCTest

/// Batched inference (several sequences per forward pass, shared prompt prefixes) against the
/// one-sequence path, on tiny random models of every architecture. Float32 on both sides; the only
/// difference is the order BLAS sums in for another row count, so hidden states must agree within
/// 1e-5 absolute (values are O(1)) and greedy tokens exactly.
final class BatchedInferenceTests: XCTestCase {
    let texts: [[Int32]] = [[1, 5, 9, 2, 33, 7, 7, 12, 0, 39], [4], [8, 8, 3, 21, 17, 2, 30], [11, 6, 25, 1, 38, 14]]

    func testBatchedForwardEqualsOneSequenceAtATime() throws {
        for arch in Architecture.allCases {
            let c = RandomModels.config(arch, format: .huggingFace)
            let m = try RandomModels.model(c, seed: 3)
            // Sequence 0 and 3 already hold positions in their caches (sliding windows then cut into
            // the cached part), 1 is a single token, 2 starts empty.
            let history: [[Int32]] = [[3, 3, 9, 14, 2], [], [], [19, 20]]
            func caches() throws -> [KVCache] {
                try history.map { h in
                    let cache = m.makeCache(capacity: 4)
                    if !h.isEmpty { try m.forward(h, cache: cache) }
                    return cache
                }
            }
            var expected = [[Float]]()
            for (b, cache) in try caches().enumerated() {
                let y = try m.forward(texts[b], cache: cache)
                expected.append(Array(UnsafeBufferPointer(start: y, count: texts[b].count * c.hidden)))
            }
            let batchCaches = try caches()
            let y = try m.forward(batch: texts.indices.map { SequenceStep(tokens: texts[$0], cache: batchCaches[$0]) })
            var row = 0
            for b in texts.indices {
                for i in 0..<(texts[b].count * c.hidden) {
                    XCTAssertEqual(y[row * c.hidden + i], expected[b][i], accuracy: 1e-5, "\(arch) sequence \(b)")
                }
                row += texts[b].count
                XCTAssertEqual(batchCaches[b].length, history[b].count + texts[b].count)
            }
        }
    }

    func testBatchedScoresEqualSingleScores() throws {
        for arch in [Architecture.gemma3, .qwen2, .llama] {
            let m = try RandomModels.model(RandomModels.config(arch, format: .huggingFace), seed: 5)
            // batchTokens 12 splits the texts into several passes; chunk 8 sends the first one alone.
            let batched = try m.score(batch: texts, batchTokens: 12, chunk: 8)
            for (b, ids) in texts.enumerated() {
                let single = try m.score(ids)
                XCTAssertEqual(batched[b].ids, ids)
                XCTAssertEqual(batched[b].nll.count, single.nll.count)
                for (x, y) in zip(batched[b].nll, single.nll) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(arch) text \(b)") }
            }
        }
    }

    func testGreedyBatchEqualsGenerateWithAndWithoutPrefix() throws {
        for arch in Architecture.allCases {
            let m = try RandomModels.model(RandomModels.config(arch, format: .huggingFace), seed: 7)
            let shared: [Int32] = [2, 17, 5, 5, 30, 1]
            // Prompts share all, part or none of the prefix; one is the prefix itself.
            let prompts: [[Int32]] = [shared + [9, 4], shared, Array(shared.prefix(3)) + [22], [13, 2, 8], shared + [1, 1, 1, 6, 35]]
            let stop: Int32 = 3
            let expected = try prompts.map { try m.generate(prompt: $0, maxTokens: 9, stopTokens: [stop]) }
            let prefix = try m.makePrefix(shared)
            // A longer prefix built on the first (copies its positions, computes the rest).
            let longer = try m.makePrefix(shared + [1, 1, 1], extending: prefix)
            XCTAssertEqual(longer.cache.length, shared.count + 3)
            for prefixes in [[], [prefix], [prefix, longer], [longer]] {
                for prefill in [4096, 5] {
                    let got = try m.generateGreedy(prompts: prompts, maxTokens: 9, stopTokens: [stop], prefixes: prefixes, prefillTokens: prefill)
                    XCTAssertEqual(got, expected, "\(arch), \(prefixes.count) prefixes, prefill \(prefill)")
                }
            }
            // A caller's stop rule ends each sequence on its own.
            let short = try m.generateGreedy(prompts: prompts, maxTokens: 9, stopTokens: [stop]) { b, out in out.count == b + 1 }
            for (b, out) in short.enumerated() { XCTAssertEqual(out, Array(expected[b].prefix(b + 1))) }
        }
    }

    func testBatchMisuseIsAnError() throws {
        let m = try RandomModels.model(RandomModels.config(.llama, format: .huggingFace), seed: 1)
        let cache = m.makeCache()
        XCTAssertThrowsError(try m.forward(batch: [SequenceStep(tokens: [1], cache: cache), SequenceStep(tokens: [2], cache: cache)]))
        XCTAssertThrowsError(try m.forward([], cache: cache))
        let trace = ForwardHooks(layerTrace: { _ in })
        XCTAssertThrowsError(try m.forward(batch: [SequenceStep(tokens: [1], cache: m.makeCache()), SequenceStep(tokens: [2], cache: m.makeCache())],
                                           hooks: trace))
        XCTAssertThrowsError(try m.generateGreedy(prompts: [[1], []], maxTokens: 2))
        let other = try RandomModels.model(RandomModels.config(.qwen2, format: .huggingFace), seed: 1) // 4 kv heads, llama 2
        let foreign = other.makeCache()
        try other.forward([1, 2], cache: foreign)
        XCTAssertThrowsError(try m.makeCache().load(from: foreign, positions: 2)) { error in
            XCTAssertTrue(error.localizedDescription.contains("different models"), error.localizedDescription)
        }
    }
}
