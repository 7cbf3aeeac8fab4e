import Foundation

/// How a head's dimensions are paired for rotation.
public enum RopeStyle: String, Codable {
    /// Pairs `(i, i + d/2)`: Hugging Face checkpoints, Gemma GGUF files.
    case halves
    /// Pairs `(2i, 2i+1)`: Llama-architecture GGUF files, whose q/k rows are stored permuted.
    case interleaved
}

/// Frequency scaling of rotary embeddings.
public enum RopeScaling: Equatable, Codable {
    case none
    /// Positions divided by `factor`.
    case linear(factor: Double)
    /// Llama 3's piecewise scaling of the inverse frequencies.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double)
    /// Per-frequency divisors (llama.cpp's `rope_freqs` tensor).
    case factors([Double])
}

/// Precomputed cos/sin of rotary angles, `[positions, headDim/2]`, computed in Double.
public final class RopeTable {
    public let headDim: Int
    public let base: Double
    public let scaling: RopeScaling
    public let inverseFrequencies: [Double]
    public private(set) var capacity = 0
    public private(set) var cos: [Float] = []
    public private(set) var sin: [Float] = []

    public init(headDim: Int, base: Double, scaling: RopeScaling = .none, capacity: Int = 0) {
        self.headDim = headDim
        self.base = base
        self.scaling = scaling
        let half = headDim / 2
        var inv = (0..<half).map { 1.0 / Foundation.pow(base, Double(2 * $0) / Double(headDim)) }
        switch scaling {
        case .none: break
        case let .linear(factor):
            inv = inv.map { $0 / factor }
        case let .llama3(factor, low, high, original):
            let lowWavelen = original / low
            let highWavelen = original / high
            inv = inv.map { f in
                let wavelen = 2 * Double.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / factor }
                let smooth = (original / wavelen - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        case let .factors(div):
            inv = zip(inv, div).map { $0 / $1 }
        }
        inverseFrequencies = inv
        ensure(capacity: capacity)
    }

    /// Grows the table to cover positions `0..<capacity`.
    public func ensure(capacity needed: Int) {
        guard needed > capacity else { return }
        let half = headDim / 2
        let newCap = max(needed, capacity * 2, 64)
        var c = [Float](repeating: 0, count: newCap * half)
        var s = [Float](repeating: 0, count: newCap * half)
        for p in 0..<newCap {
            for i in 0..<half {
                let angle = Double(p) * inverseFrequencies[i]
                c[p * half + i] = Float(Foundation.cos(angle))
                s[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        cos = c
        sin = s
        capacity = newCap
    }
}

public enum RoPE {
    /// Rotates, in place, every head of `x` (`[rows, heads·headDim]`, row stride `stride`)
    /// by the angles of positions `firstPosition ..< firstPosition + rows`.
    /// `inverse` rotates by the negative angle, which is the backward pass (rotations are orthogonal).
    public static func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, stride: Int,
                             firstPosition: Int, table: RopeTable, style: RopeStyle, inverse: Bool = false) {
        table.ensure(capacity: firstPosition + rows)
        let half = headDim / 2
        let sign: Float = inverse ? -1 : 1
        table.cos.withUnsafeBufferPointer { cosB in
            table.sin.withUnsafeBufferPointer { sinB in
                for r in 0..<rows {
                    let cr = cosB.baseAddress! + (firstPosition + r) * half
                    let sr = sinB.baseAddress! + (firstPosition + r) * half
                    for h in 0..<heads {
                        let v = x + r * stride + h * headDim
                        switch style {
                        case .halves:
                            for i in 0..<half {
                                let a = v[i], b = v[i + half], c = cr[i], s = sign * sr[i]
                                v[i] = a * c - b * s
                                v[i + half] = a * s + b * c
                            }
                        case .interleaved:
                            for i in 0..<half {
                                let a = v[2 * i], b = v[2 * i + 1], c = cr[i], s = sign * sr[i]
                                v[2 * i] = a * c - b * s
                                v[2 * i + 1] = a * s + b * c
                            }
                        }
                    }
                }
            }
        }
    }
}
