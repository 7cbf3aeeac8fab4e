import Foundation
import Models

extension NeuronSet {
    /// A random set with the same number of neurons as `set` in every layer and structure
    /// (method §4/§5 baselines). Deterministic: one SplitMix64 stream from `seed`, consumed layer by
    /// layer (ascending) and structure by structure (q, k, v, o, ffn). With `disjoint`, the random
    /// neurons avoid the ones of `set`.
    public static func randomMatching(_ set: NeuronSet, sizes: StructureSizes, seed: UInt64, disjoint: Bool = false) throws -> NeuronSet {
        try set.validate(sizes: sizes)
        var rng = SplitMix64(seed: seed)
        var layers = [Int: LayerMask]()
        for l in set.nonEmptyLayers {
            guard let m = set.layers[l] else { continue }
            var out = LayerMask()
            for st in NeuronStructure.allCases {
                let k = m[st].count
                guard k > 0 else { continue }
                let n = sizes.count(st)
                let excluded = disjoint ? Set(m[st]) : []
                guard k <= n - excluded.count else {
                    throw NeuronsError.invalidOption(name: "disjoint", reason: "layer \(l) \(st.rawValue) has \(k) of \(n) neurons; no disjoint random set of that size exists")
                }
                out[st] = sample(k, from: n, excluding: excluded, rng: &rng)
            }
            layers[l] = out
        }
        var r = NeuronSet(fingerprint: set.fingerprint, language: set.language, sizes: sizes, layers: layers)
        var origin: [String: JSONValue] = ["seed": .int(Int(truncatingIfNeeded: seed)), "disjoint": .bool(disjoint)]
        if set.source != "(in memory)" { origin["matches"] = .string(URL(fileURLWithPath: set.source).lastPathComponent) }
        r.extra["random"] = .object(origin)
        return r
    }

    /// Same, with the sizes of `config`.
    public static func randomMatching(_ set: NeuronSet, config: ModelConfig, seed: UInt64, disjoint: Bool = false) throws -> NeuronSet {
        try randomMatching(set, sizes: StructureSizes(config: config), seed: seed, disjoint: disjoint)
    }

    /// `k` distinct values of `0..<n` not in `excluded`, sorted: a partial Fisher–Yates shuffle over
    /// the allowed values with unbiased bounded draws.
    static func sample(_ k: Int, from n: Int, excluding excluded: Set<Int>, rng: inout SplitMix64) -> [Int] {
        var pool = excluded.isEmpty ? Array(0..<n) : (0..<n).filter { !excluded.contains($0) }
        for i in 0..<k {
            let j = i + bounded(pool.count - i, &rng)
            pool.swapAt(i, j)
        }
        return pool[0..<k].sorted()
    }

    /// Uniform in `0..<bound` by rejection (no modulo bias), independent of the standard library's algorithm.
    static func bounded(_ bound: Int, _ rng: inout SplitMix64) -> Int {
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = rng.next()
            if x < limit { return Int(x % b) }
        }
    }
}
