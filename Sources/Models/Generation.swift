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
