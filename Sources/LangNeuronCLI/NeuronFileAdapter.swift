import Foundation
import Models

/// Interim reader of `langneuron.neurons/1` files for `train`, until the Neurons module's
/// `NeuronSet` lands (same format).
struct NeuronSet {
    var raw: [String: Any]
    var layerIndices: [Int: [String: [Int]]]
    static let structures = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn"]

    var totalCount: Int { layerIndices.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    static func load(url: URL) throws -> NeuronSet {
        guard let data = FileManager.default.contents(atPath: url.path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError.badInput("\(url.path): cannot read a JSON neuron set")
        }
        guard obj["format"] as? String == "langneuron.neurons/1" else {
            throw CLIError.badInput("\(url.path): 'format' must be langneuron.neurons/1")
        }
        guard let layers = obj["layers"] as? [String: [String: [Int]]] else {
            throw CLIError.badInput("\(url.path): 'layers' must map layer numbers to {structure: [indices]}")
        }
        var out = [Int: [String: [Int]]]()
        for (k, v) in layers {
            guard let l = Int(k), l >= 0 else { throw CLIError.badInput("\(url.path): layer key '\(k)' is not a layer number") }
            for s in v.keys where !structures.contains(s) {
                throw CLIError.badInput("\(url.path): layer \(k): unknown structure '\(s)' (known: \(structures.joined(separator: ", ")))")
            }
            out[l] = v
        }
        return NeuronSet(raw: obj, layerIndices: out)
    }

    func validate(against c: ModelConfig, fingerprint: String) throws {
        if let m = raw["model"] as? [String: Any], let fp = m["fingerprint"] as? String, fp != fingerprint {
            throw CLIError.badInput("neuron set was detected on model \(fp), not this one (\(fingerprint))")
        }
        for (l, s) in layerIndices {
            guard l < c.layers else { throw CLIError.badInput("neuron set: layer \(l) does not exist (model has \(c.layers))") }
            for (name, idx) in s {
                let limit = name == "ffn" ? c.ffn : (name == "attn_q" || name == "attn_output") ? c.qDim : c.kvDim
                if let bad = idx.first(where: { $0 < 0 || $0 >= limit }) {
                    throw CLIError.badInput("neuron set: layer \(l) \(name): index \(bad) out of range 0..<\(limit)")
                }
                if Set(idx).count != idx.count { throw CLIError.badInput("neuron set: layer \(l) \(name): duplicate index") }
            }
        }
    }

    static func randomMatching(_ s: NeuronSet, config c: ModelConfig, seed: UInt64) throws -> NeuronSet {
        var rng = SplitMix64(seed: seed)
        var out = [Int: [String: [Int]]]()
        for l in s.layerIndices.keys.sorted() {
            for name in structures {
                let n = s.layerIndices[l]?[name]?.count ?? 0
                let limit = name == "ffn" ? c.ffn : (name == "attn_q" || name == "attn_output") ? c.qDim : c.kvDim
                var pool = Array(0..<limit)
                for i in 0..<n { let j = i + Int(rng.next() % UInt64(limit - i)); pool.swapAt(i, j) }
                out[l, default: [:]][name] = Array(pool.prefix(n)).sorted()
            }
        }
        var raw = s.raw
        raw["layers"] = Dictionary(uniqueKeysWithValues: out.map { (String($0.key), $0.value) })
        return NeuronSet(raw: raw, layerIndices: out)
    }

    func write(to url: URL) throws {
        var r = raw
        r["layers"] = Dictionary(uniqueKeysWithValues: layerIndices.map { (String($0.key), $0.value) })
        let data = try JSONSerialization.data(withJSONObject: r, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }

    func countsJSON(trainable: [String]) -> String {
        var counts = [String: Int]()
        for s in layerIndices.values { for (k, v) in s { counts[k, default: 0] += v.count } }
        let data = (try? JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
