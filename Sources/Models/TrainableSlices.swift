import Foundation
import Kernels

/// A weight matrix whose rows or columns can be trained.
public enum TrainableTensor: String, CaseIterable, Codable, Comparable {
    case attnQ = "attn_q", attnK = "attn_k", attnV = "attn_v", attnOutput = "attn_output"
    case ffnGate = "ffn_gate", ffnUp = "ffn_up", ffnDown = "ffn_down"

    /// Column slices (input units) for the output projections, row slices otherwise.
    public var isColumnSlice: Bool { self == .attnOutput || self == .ffnDown }

    public var blockTensor: BlockTensor {
        switch self {
        case .attnQ: return .attnQ
        case .attnK: return .attnK
        case .attnV: return .attnV
        case .attnOutput: return .attnOutput
        case .ffnGate: return .ffnGate
        case .ffnUp: return .ffnUp
        case .ffnDown: return .ffnDown
        }
    }

    /// Number of rows (or columns) the tensor has.
    public func unitCount(_ c: ModelConfig) -> Int {
        switch self {
        case .attnQ: return c.qDim
        case .attnK, .attnV: return c.kvDim
        case .attnOutput: return c.qDim
        case .ffnGate, .ffnUp, .ffnDown: return c.ffn
        }
    }

    /// Length of one slice (a row's or a column's element count).
    public func sliceLength(_ c: ModelConfig) -> Int {
        switch self {
        case .attnQ, .attnK, .attnV, .ffnGate, .ffnUp: return c.hidden
        case .attnOutput, .ffnDown: return c.hidden
        }
    }

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// Which rows/columns of which tensors are trainable, per layer. Indices are sorted and unique.
public struct TrainableSlices: Equatable {
    public private(set) var layers: [[TrainableTensor: [Int]]]

    public init(layers: Int) { self.layers = Array(repeating: [:], count: layers) }

    public mutating func set(layer: Int, _ t: TrainableTensor, _ indices: [Int]) {
        let sorted = Array(Set(indices)).sorted()
        layers[layer][t] = sorted.isEmpty ? nil : sorted
    }

    public func indices(layer: Int, _ t: TrainableTensor) -> [Int] { layers[layer][t] ?? [] }

    /// Total trainable parameters.
    public func parameterCount(_ c: ModelConfig) -> Int {
        layers.reduce(0) { acc, l in acc + l.reduce(0) { $0 + $1.value.count * $1.key.sliceLength(c) } }
    }
}

/// Gradient (or optimizer-moment) buffers for trainable slices only: one `[n, sliceLength]`
/// buffer per trained tensor, slice i holding row/column `indices[i]`.
public final class SliceBuffers {
    public let slices: TrainableSlices
    public private(set) var buffers: [[TrainableTensor: FloatBuffer]]

    public init(slices: TrainableSlices, config c: ModelConfig) {
        self.slices = slices
        buffers = slices.layers.map { l in
            var d = [TrainableTensor: FloatBuffer]()
            for (t, idx) in l { d[t] = FloatBuffer(count: idx.count * t.sliceLength(c)) }
            return d
        }
    }

    public func zero() { for l in buffers { for (_, b) in l { b.zero() } } }

    /// Visits every buffer in a fixed order (layer, then tensor order) — deterministic reductions.
    public func forEach(_ body: (Int, TrainableTensor, FloatBuffer) -> Void) {
        for (l, d) in buffers.enumerated() {
            for t in TrainableTensor.allCases { if let b = d[t] { body(l, t, b) } }
        }
    }

    /// Sum of squares of all entries, accumulated in Double in a fixed order.
    public func squaredNorm() -> Double {
        var s = 0.0
        forEach { _, _, b in for i in 0..<b.count { s += Double(b[i]) * Double(b[i]) } }
        return s
    }
}
