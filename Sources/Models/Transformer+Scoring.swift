import Foundation
import Kernels

/// Per-token scores of a text.
public struct TokenScores: Codable {
    public let ids: [Int32]
    /// `nll[i]` = −log p(ids[i+1] | ids[...i]).
    public let nll: [Float]
    public var meanNLL: Double { nll.isEmpty ? .nan : nll.reduce(0.0) { $0 + Double($1) } / Double(nll.count) }
    public var perplexity: Double { Foundation.exp(meanNLL) }
}

extension Transformer {
    /// Scores every next-token prediction of `ids`, prefilling `chunk` tokens at a time through a
    /// KV cache (exact: each position still attends to all earlier ones its layer allows), and
    /// computing the output head `headRows` rows at a time so a 262k vocabulary needs no `[T, V]` buffer.
    public func score(_ ids: [Int32], chunk: Int = 512, headRows: Int = 256, hooks: ForwardHooks? = nil) throws -> TokenScores {
        guard ids.count >= 2 else { return TokenScores(ids: ids, nll: []) }
        let cache = makeCache(capacity: ids.count)
        var nll = [Float](repeating: 0, count: ids.count - 1)
        let V = config.vocabularySize
        let logitBuf = FloatBuffer(count: min(headRows, ids.count) * V)
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + chunk)
            let hidden = try forward(Array(ids[start..<end]), cache: cache, hooks: hooks)
            var r = 0
            while r < end - start {
                let n = min(headRows, end - start - r)
                logits(logitBuf.pointer, hidden: hidden + r * config.hidden, rows: n)
                var targets = [Int32](repeating: -1, count: n)
                for i in 0..<n where start + r + i + 1 < ids.count { targets[i] = ids[start + r + i + 1] }
                var out = [Float](repeating: 0, count: n)
                CrossEntropy.forward(nll: &out, logits: logitBuf.pointer, targets: targets, rows: n, vocab: V)
                for i in 0..<n where start + r + i + 1 < ids.count { nll[start + r + i] = out[i] }
                r += n
            }
            start = end
        }
        return TokenScores(ids: ids, nll: nll)
    }

    /// Scores several sequences, as `score` would each, running them through the model together
    /// (one matrix product per weight for all their rows) in groups of at most `batchTokens` rows.
    /// Sequences longer than `chunk` are scored alone with `score`, so attention memory stays bounded.
    /// `progress(done)` is called with the number of sequences scored so far after each pass.
    public func score(batch sequences: [[Int32]], batchTokens: Int = 512, chunk: Int = 512, headRows: Int = 256,
                      hooks: ForwardHooks? = nil, progress: (Int) -> Void = { _ in }) throws -> [TokenScores] {
        var results = [TokenScores?](repeating: nil, count: sequences.count)
        var group = [Int](), rows = 0, done = 0
        let V = config.vocabularySize
        func flush() throws {
            guard !group.isEmpty else { return }
            let logitBuf = FloatBuffer(count: min(headRows, rows) * V)
            let steps = group.map { SequenceStep(tokens: sequences[$0], cache: makeCache(capacity: sequences[$0].count)) }
            let hidden = try forward(batch: steps, hooks: hooks)
            // Head and cross-entropy over all rows of the group; a sequence's last row has no target.
            var targets = [Int32](), owner = [(seq: Int, pos: Int)]() // seq: index in `group`
            for (j, b) in group.enumerated() {
                let ids = sequences[b]
                for i in 0..<ids.count {
                    targets.append(i + 1 < ids.count ? ids[i + 1] : -1)
                    owner.append((j, i))
                }
            }
            var nll = group.map { [Float](repeating: 0, count: sequences[$0].count - 1) }
            var r = 0
            var out = [Float](repeating: 0, count: min(headRows, rows))
            while r < targets.count {
                let n = min(headRows, targets.count - r)
                logits(logitBuf.pointer, hidden: hidden + r * config.hidden, rows: n)
                CrossEntropy.forward(nll: &out, logits: logitBuf.pointer, targets: Array(targets[r..<(r + n)]), rows: n, vocab: V)
                for i in 0..<n where targets[r + i] >= 0 { nll[owner[r + i].seq][owner[r + i].pos] = out[i] }
                r += n
            }
            for (j, b) in group.enumerated() { results[b] = TokenScores(ids: sequences[b], nll: nll[j]) }
            done += group.count
            group = []; rows = 0
            progress(done)
        }
        for (b, ids) in sequences.enumerated() {
            if ids.count < 2 { results[b] = TokenScores(ids: ids, nll: []); done += 1; continue }
            if ids.count > chunk {
                results[b] = try score(ids, chunk: chunk, headRows: headRows, hooks: hooks)
                done += 1
                progress(done)
                continue
            }
            if rows + ids.count > batchTokens { try flush() }
            group.append(b); rows += ids.count
        }
        try flush()
        return results.map { $0! }
    }
}
