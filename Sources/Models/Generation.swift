import Foundation
import Kernels

/// How the next token is chosen.
public struct SamplingOptions: Codable {
    /// 0 = greedy.
    public var temperature: Float = 0
    public var topK: Int = 0
    public var topP: Float = 1
    public var seed: UInt64 = 0
    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.seed = seed
    }
}

/// SplitMix64: small, fast, and reproducible across platforms.
public struct SplitMix64: RandomNumberGenerator, Codable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

extension Transformer {
    /// Generates up to `maxTokens` tokens after `prompt`, calling `onToken` with each (return false to stop).
    /// Stops early at any id in `stopTokens`.
    public func generate(prompt: [Int32], maxTokens: Int, options: SamplingOptions = SamplingOptions(),
                         stopTokens: Set<Int32> = [], hooks: ForwardHooks? = nil,
                         onToken: (Int32) -> Bool = { _ in true }) throws -> [Int32] {
        guard !prompt.isEmpty else { return [] }
        var rng = SplitMix64(seed: options.seed)
        let cache = makeCache(capacity: prompt.count + maxTokens)
        let V = config.vocabularySize
        let logitBuf = FloatBuffer(count: V)
        var out = [Int32]()
        var hidden = try forward(prompt, cache: cache, hooks: hooks)
        var lastRow = prompt.count - 1
        for _ in 0..<maxTokens {
            logits(logitBuf.pointer, hidden: hidden + lastRow * config.hidden, rows: 1)
            let next = Transformer.sample(logitBuf.pointer, count: V, options: options, rng: &rng)
            out.append(next)
            if stopTokens.contains(next) || !onToken(next) { break }
            hidden = try forward([next], cache: cache, hooks: hooks)
            lastRow = 0
        }
        return out
    }

    /// Runs `tokens` (e.g. the few-shot exemplars every prompt of a benchmark starts with) once, so
    /// that `generateGreedy(prompts:prefixes:)` can start prompts from its keys and values.
    /// With `base`, the tokens `base` already holds are copied from it instead of recomputed.
    public func makePrefix(_ tokens: [Int32], extending base: PromptPrefix? = nil) throws -> PromptPrefix {
        let cache = makeCache(capacity: max(tokens.count, 1))
        var start = 0
        if let b = base {
            start = b.sharedLength(with: tokens)
            if start > 0 { try cache.load(from: b.cache, positions: start) }
        }
        if start < tokens.count { try forward(Array(tokens[start...]), cache: cache) }
        return PromptPrefix(tokens: tokens, cache: cache)
    }

    /// Greedy continuations of several prompts, decoded together: each step runs one new token of
    /// every unfinished prompt through the model in a single batched pass and the output head once
    /// for all of them, so B prompts cost little more than one while decoding is memory-bound.
    /// A prompt's leading tokens that agree with one of `prefixes` (the longest match) are not
    /// recomputed: its cache starts as a copy of that prefix's (the first positions of a causal
    /// model do not depend on what follows). A prompt stops at a token in `stopTokens` (kept in its
    /// output), when `isFinished(index, output)` returns true, or after `maxTokens`. Prompts are
    /// prefilled in groups of at most `prefillTokens` rows. Ties go to the lowest id, as in `generate`.
    public func generateGreedy(prompts: [[Int32]], maxTokens: Int, stopTokens: Set<Int32> = [], prefixes: [PromptPrefix] = [],
                               prefillTokens: Int = 4096, isFinished: (Int, [Int32]) -> Bool = { _, _ in false }) throws -> [[Int32]] {
        let B = prompts.count, d = config.hidden, V = config.vocabularySize
        var outputs = [[Int32]](repeating: [], count: B)
        guard B > 0, maxTokens > 0 else { return outputs }
        for p in prompts where p.isEmpty { throw ModelError.emptySequence }
        let caches = prompts.map { makeCache(capacity: $0.count + maxTokens) }
        // Prefill: what the prefixes do not cover, in groups of bounded size.
        var rest = [[Int32]]()
        for (b, p) in prompts.enumerated() {
            var shared = 0, source: PromptPrefix?
            for pre in prefixes {
                let n = min(pre.sharedLength(with: p), p.count - 1)
                if n > shared { shared = n; source = pre }
            }
            if let pre = source { try caches[b].load(from: pre.cache, positions: shared) }
            rest.append(Array(p[shared...]))
        }
        let last = FloatBuffer(count: B * d)
        var group = [Int](), rows = 0
        func flush() throws {
            guard !group.isEmpty else { return }
            let hidden = try forward(batch: group.map { SequenceStep(tokens: rest[$0], cache: caches[$0]) })
            var r = 0
            for b in group {
                r += rest[b].count
                (last.pointer + b * d).update(from: hidden + (r - 1) * d, count: d)
            }
            group = []; rows = 0
        }
        for b in 0..<B {
            if !group.isEmpty && rows + rest[b].count > prefillTokens { try flush() }
            group.append(b); rows += rest[b].count
        }
        try flush()

        var active = Array(0..<B)
        let logitBuf = FloatBuffer(count: B * V)
        var rng = SplitMix64(seed: 0)
        let greedy = SamplingOptions()
        for step in 0..<maxTokens {
            logits(logitBuf.pointer, hidden: last.pointer, rows: active.count)
            var still = [Int]()
            for (i, b) in active.enumerated() {
                let next = Transformer.sample(logitBuf.pointer + i * V, count: V, options: greedy, rng: &rng)
                outputs[b].append(next)
                if !stopTokens.contains(next) && !isFinished(b, outputs[b]) { still.append(b) }
            }
            if still.isEmpty || step == maxTokens - 1 { break }
            let hidden = try forward(batch: still.map { SequenceStep(tokens: [outputs[$0].last!], cache: caches[$0]) })
            last.pointer.update(from: hidden, count: still.count * d)
            active = still
        }
        return outputs
    }

    /// Picks a token from logits: argmax (lowest id on ties) when temperature is 0, else
    /// temperature / top-k / top-p sampling with `rng`.
    public static func sample(_ logits: UnsafePointer<Float>, count: Int, options: SamplingOptions,
                              rng: inout SplitMix64) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var idx = Array(0..<count)
        idx.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if options.topK > 0 { idx = Array(idx.prefix(options.topK)) }
        let m = Double(logits[idx[0]])
        var probs = idx.map { Foundation.exp((Double(logits[$0]) - m) / Double(options.temperature)) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if options.topP < 1 {
            var cum = 0.0, keep = 0
            while keep < probs.count { cum += probs[keep]; keep += 1; if cum >= Double(options.topP) { break } }
            idx = Array(idx.prefix(keep)); probs = Array(probs.prefix(keep))
            let s = probs.reduce(0, +); probs = probs.map { $0 / s }
        }
        var u = rng.nextUnit()
        for (i, p) in probs.enumerated() {
            u -= p
            if u < 0 { return Int32(idx[i]) }
        }
        return Int32(idx[idx.count - 1])
    }
}

/// Keys and values of a token prefix shared by many prompts (see `Transformer.makePrefix`).
public final class PromptPrefix {
    public let tokens: [Int32]
    let cache: KVCache
    init(tokens: [Int32], cache: KVCache) { self.tokens = tokens; self.cache = cache }

    /// How many leading tokens of `prompt` this prefix holds.
    func sharedLength(with prompt: [Int32]) -> Int {
        let limit = min(tokens.count, cache.length, prompt.count)
        var n = 0
        while n < limit && tokens[n] == prompt[n] { n += 1 }
        return n
    }
}
