import Distributed
import Foundation
import Models
import Tokenizers

/// Token-weighted perplexity of a model on documents, with a bootstrap confidence interval.
public struct PerplexityResult: Codable, Equatable {
    public let documents: Int
    /// Predicted tokens (each document contributes its length − 1).
    public let tokens: Int
    public let meanNLL: Double
    public let ppl: Double
    /// 95% bootstrap interval of the perplexity (documents resampled).
    public let pplLow: Double
    public let pplHigh: Double
    /// Per-document NLL sums and predicted-token counts, in document order: what a paired comparison
    /// with another model on the same documents resamples (`pairedChange`). Written to JSON as
    /// `document_nll` / `document_tokens`; files from before them read as empty.
    public var documentNLL: [Double] = []
    public var documentTokens: [Int] = []

    enum CodingKeys: String, CodingKey {
        case documents, tokens, meanNLL = "mean_nll", ppl, pplLow = "ppl_low", pplHigh = "ppl_high"
        case documentNLL = "document_nll", documentTokens = "document_tokens"
    }

    public init(documents: Int, tokens: Int, meanNLL: Double, ppl: Double, pplLow: Double, pplHigh: Double,
                documentNLL: [Double] = [], documentTokens: [Int] = []) {
        self.documents = documents; self.tokens = tokens; self.meanNLL = meanNLL; self.ppl = ppl
        self.pplLow = pplLow; self.pplHigh = pplHigh; self.documentNLL = documentNLL; self.documentTokens = documentTokens
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(documents: try c.decode(Int.self, forKey: .documents), tokens: try c.decode(Int.self, forKey: .tokens),
                  meanNLL: try c.decode(Double.self, forKey: .meanNLL), ppl: try c.decode(Double.self, forKey: .ppl),
                  pplLow: try c.decode(Double.self, forKey: .pplLow), pplHigh: try c.decode(Double.self, forKey: .pplHigh),
                  documentNLL: try c.decodeIfPresent([Double].self, forKey: .documentNLL) ?? [],
                  documentTokens: try c.decodeIfPresent([Int].self, forKey: .documentTokens) ?? [])
    }
}

public enum Perplexity {
    /// Scores each document (tokenised with BOS as the model adds it, cut to `maxTokens`) and pools
    /// NLL over all predicted tokens. Documents run through the model together, up to `batchTokens`
    /// tokens per pass. `hooks` (e.g. neuron masks) apply to every forward pass.
    /// `progress(done, total)` is called after each batch (with several ranks: this rank's documents).
    ///
    /// With several ranks in `communicator`, each scores a contiguous block of the documents and the
    /// per-document sums are gathered in document order, so every rank returns the same result as
    /// one process (the same bootstrap too), up to float rounding of the differently packed passes.
    public static func evaluate(model: Transformer, tokenizer: Tokenizer, documents: [String], maxTokens: Int = 512,
                                batchTokens: Int = 512, bootstrap: Int = 1000, seed: UInt64 = 1, hooks: ForwardHooks? = nil,
                                communicator: Communicator = .world,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> PerplexityResult {
        let mine = Array(documents[communicator.share(of: documents.count)])
        let ids = mine.map { Array(tokenizer.encode($0, addSpecialTokens: true).prefix(maxTokens)) }
        // A rank can have no documents (fewer documents than ranks).
        let scores = ids.isEmpty ? [] : try model.score(batch: ids, batchTokens: batchTokens, hooks: hooks) { progress($0, mine.count) }
        let scored = scores.filter { !$0.nll.isEmpty }
        var sums = scored.map { $0.nll.reduce(0.0) { $0 + Double($1) } }, counts = scored.map(\.nll.count)
        if communicator.isParallel {
            // [sum₀, count₀, sum₁, count₁, …] per rank; counts are exact in a Double.
            let parts = try communicator.allgather(doubles: zip(sums, counts).flatMap { [$0, Double($1)] },
                                                   what: "the perplexity sums of \(documents.count) documents")
            sums = parts.flatMap { p in stride(from: 0, to: p.count, by: 2).map { p[$0] } }
            counts = parts.flatMap { p in stride(from: 1, to: p.count, by: 2).map { Int(p[$0]) } }
        }
        return summarize(sums: sums, counts: counts, bootstrap: bootstrap, seed: seed)
    }

    /// Pools per-document NLL sums and token counts; the interval comes from resampling documents.
    public static func summarize(sums: [Double], counts: [Int], bootstrap: Int, seed: UInt64) -> PerplexityResult {
        let total = sums.reduce(0, +), n = counts.reduce(0, +)
        let mean = n > 0 ? total / Double(n) : .nan
        var lo = Foundation.exp(mean), hi = lo
        if sums.count > 1 && bootstrap > 0 {
            var rng = SplitMix64(seed: seed)
            var ppls = [Double]()
            ppls.reserveCapacity(bootstrap)
            for _ in 0..<bootstrap {
                var s = 0.0, c = 0
                for _ in 0..<sums.count {
                    let j = Int(rng.next() % UInt64(sums.count))
                    s += sums[j]; c += counts[j]
                }
                ppls.append(Foundation.exp(s / Double(max(c, 1))))
            }
            ppls.sort()
            lo = ppls[Int(0.025 * Double(bootstrap - 1))]
            hi = ppls[Int(0.975 * Double(bootstrap - 1))]
        }
        return PerplexityResult(documents: sums.count, tokens: n, meanNLL: mean, ppl: Foundation.exp(mean), pplLow: lo, pplHigh: hi,
                                documentNLL: sums, documentTokens: counts)
    }

    /// Change of perplexity of `arm` against `base`, `100·(ppl_arm / ppl_base − 1)` %, with a 95%
    /// paired bootstrap interval: documents are resampled with the same indices for both models, so
    /// that how much documents differ from one another (which dominates each model's own interval)
    /// cancels and what remains is how consistently the arm changes the same documents.
    /// Nil unless both were scored on the same documents (same number, same token counts).
    public static func pairedChange(_ arm: PerplexityResult, base: PerplexityResult, bootstrap: Int = 1000, seed: UInt64 = 1) -> PairedChange? {
        let a = arm.documentNLL, b = base.documentNLL, c = base.documentTokens
        guard !a.isEmpty, a.count == b.count, arm.documentTokens == c else { return nil }
        func change(_ da: Double, _ db: Double, _ n: Int) -> Double { 100 * Foundation.expm1((da - db) / Double(max(n, 1))) }
        let estimate = change(a.reduce(0, +), b.reduce(0, +), c.reduce(0, +))
        guard a.count > 1 && bootstrap > 0 else { return PairedChange(change: estimate, low: estimate, high: estimate) }
        var rng = SplitMix64(seed: seed)
        var draws = [Double]()
        draws.reserveCapacity(bootstrap)
        for _ in 0..<bootstrap {
            var sa = 0.0, sb = 0.0, n = 0
            for _ in 0..<a.count {
                let j = Int(rng.next() % UInt64(a.count))
                sa += a[j]; sb += b[j]; n += c[j]
            }
            draws.append(change(sa, sb, n))
        }
        draws.sort()
        return PairedChange(change: estimate, low: draws[Int(0.025 * Double(bootstrap - 1))], high: draws[Int(0.975 * Double(bootstrap - 1))])
    }
}

/// A perplexity change in percent with its 95% paired bootstrap interval.
public struct PairedChange: Equatable, Sendable {
    public let change: Double
    public let low: Double
    public let high: Double

    public init(change: Double, low: Double, high: Double) { self.change = change; self.low = low; self.high = high }
}
