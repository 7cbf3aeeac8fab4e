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
    public func score(_ ids: [Int32], chunk: Int = 512, headRows: Int = 32, hooks: ForwardHooks? = nil) throws -> TokenScores {
        guard ids.count >= 2 else { return TokenScores(ids: ids, nll: []) }
        let cache = makeCache(capacity: ids.count)
        var nll = [Float](repeating: 0, count: ids.count - 1)
        let V = config.vocabularySize
        let logitBuf = FloatBuffer(count: headRows * V)
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
}
