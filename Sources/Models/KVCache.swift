import Foundation
import Kernels

/// Keys (after RoPE) and values of every layer for the positions processed so far.
public final class KVCache {
    public let layers: Int
    public let kvDim: Int
    /// Positions stored.
    public internal(set) var length = 0
    public private(set) var capacity: Int
    var keys: [FloatBuffer]
    var values: [FloatBuffer]

    public init(config: ModelConfig, capacity: Int = 256) {
        layers = config.layers
        kvDim = config.kvDim
        self.capacity = max(capacity, 1)
        keys = (0..<config.layers).map { _ in FloatBuffer(count: max(capacity, 1) * config.kvDim) }
        values = (0..<config.layers).map { _ in FloatBuffer(count: max(capacity, 1) * config.kvDim) }
    }

    /// Makes room for `positions` positions in total, keeping what is stored.
    public func reserve(_ positions: Int) {
        guard positions > capacity else { return }
        let newCap = max(positions, capacity * 2)
        for l in 0..<layers {
            let k = FloatBuffer(count: newCap * kvDim), v = FloatBuffer(count: newCap * kvDim)
            k.pointer.update(from: keys[l].pointer, count: length * kvDim)
            v.pointer.update(from: values[l].pointer, count: length * kvDim)
            keys[l] = k
            values[l] = v
        }
        capacity = newCap
    }

    /// Makes this cache hold the first `positions` positions of `other` (e.g. a prompt prefix
    /// shared by many prompts, computed once). Both caches must belong to the same model.
    public func load(from other: KVCache, positions: Int) throws {
        guard other.layers == layers, other.kvDim == kvDim else {
            throw ModelError.invalidConfig(path: "KV cache", field: "layers/kvDim",
                                           reason: "differs between the two caches (\(other.layers)×\(other.kvDim) vs \(layers)×\(kvDim)); they belong to different models")
        }
        let n = min(max(0, positions), other.length)
        reserve(n)
        for l in 0..<layers {
            keys[l].pointer.update(from: other.keys[l].pointer, count: n * kvDim)
            values[l].pointer.update(from: other.values[l].pointer, count: n * kvDim)
        }
        length = n
    }

    /// Forgets every position (the memory is kept).
    public func reset() { length = 0 }

    /// Drops positions from `newLength` on (e.g. to re-score a shared prefix).
    public func truncate(to newLength: Int) { length = min(length, max(0, newLength)) }
}
