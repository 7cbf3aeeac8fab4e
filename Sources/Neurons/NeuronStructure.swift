import Foundation
import Models

/// The five kinds of neuron of a transformer block (method §2). Raw values are the names used
/// in neuron-set files and score dumps.
public enum NeuronStructure: String, CaseIterable, Codable, Comparable, Sendable {
    /// Output unit of `W_Q` (row of `attn_q`).
    case attnQ = "attn_q"
    /// Output unit of `W_K`, in kv space (row of `attn_k`).
    case attnK = "attn_k"
    /// Output unit of `W_V`, in kv space (row of `attn_v`).
    case attnV = "attn_v"
    /// Input unit of `W_O` (column of `attn_output`).
    case attnOutput = "attn_output"
    /// Intermediate feed-forward unit (rows of `ffn_gate`/`ffn_up`, column of `ffn_down`).
    case ffn

    /// Number of neurons of this structure in one layer of a model.
    public func count(in config: ModelConfig) -> Int {
        switch self {
        case .attnQ, .attnOutput: return config.qDim
        case .attnK, .attnV: return config.kvDim
        case .ffn: return config.ffn
        }
    }

    /// Whether this is an attention structure (for per-structure budgets).
    public var isAttention: Bool { self != .ffn }

    public static func < (a: NeuronStructure, b: NeuronStructure) -> Bool {
        a.ordinal < b.ordinal
    }

    /// Position in the canonical order q, k, v, o, ffn.
    public var ordinal: Int {
        switch self {
        case .attnQ: return 0
        case .attnK: return 1
        case .attnV: return 2
        case .attnOutput: return 3
        case .ffn: return 4
        }
    }
}

extension LayerMask {
    /// The indices of one structure.
    public subscript(structure: NeuronStructure) -> [Int] {
        get {
            switch structure {
            case .attnQ: return attnQ
            case .attnK: return attnK
            case .attnV: return attnV
            case .attnOutput: return attnOutput
            case .ffn: return ffn
            }
        }
        set {
            switch structure {
            case .attnQ: attnQ = newValue
            case .attnK: attnK = newValue
            case .attnV: attnV = newValue
            case .attnOutput: attnOutput = newValue
            case .ffn: ffn = newValue
            }
        }
    }
}
