import Foundation
import Kernels

/// The architectures langneuron runs.
public enum Architecture: String, Codable, CaseIterable {
    case llama, mistral, qwen2, qwen3, gemma3
}

/// Where a model's tensors come from; decides tensor names and a few storage conventions.
public enum WeightFormat: String, Codable {
    case gguf
    case huggingFace
}

/// Attention settings of one layer.
public struct LayerAttention: Codable, Equatable {
    /// Sliding window in tokens (0 = global attention).
    public var window: Int
    public var ropeBase: Double
    public var ropeScaling: RopeScaling
}

/// Everything needed to run a model, independent of its file format.
public struct ModelConfig: Codable, Equatable {
    public var architecture: Architecture
    public var format: WeightFormat
    public var vocabularySize: Int
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffn: Int
    public var rmsEpsilon: Float
    public var ropeStyle: RopeStyle
    public var layerAttention: [LayerAttention]
    public var attentionScale: Float
    public var activation: GatedActivation
    /// Per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3).
    public var qkNorm: Bool
    /// Biases on q, k, v projections (Qwen2).
    public var qkvBias: Bool
    /// Norms applied to the attention and FFN outputs before the residual add (Gemma 3).
    public var sandwichNorms: Bool
    /// Hugging Face Gemma stores RMSNorm weights as `w` and applies `1 + w`; GGUF stores `1 + w`.
    public var normWeightOffset: Float
    /// Multiplier of the token embeddings (Gemma: √hidden, rounded to float32).
    public var embeddingScale: Float
    public var tiedEmbeddings: Bool
    public var finalLogitSoftcap: Float?

    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    /// Largest layer count and largest other size (hidden, heads, head dim, FFN, vocabulary) a
    /// configuration may claim, far above any real model, so that per-layer arrays and products
    /// like layers × hidden × FFN (≤ 2^60) can be formed before the tensors are checked.
    public static let maxLayers = 4096
    public static let maxSize = 1 << 24

    /// Refuses sizes read from a file that are negative or absurd, before anything is allocated
    /// per layer; `fields` names them as the file does.
    public static func checkSizes(path: String, _ fields: [(String, Int)], layers: (String, Int)) throws {
        guard (0...maxLayers).contains(layers.1) else {
            throw ModelError.invalidConfig(path: path, field: layers.0, reason: "is \(layers.1); expected 1 to \(maxLayers)")
        }
        for (name, v) in fields where !(0...maxSize).contains(v) {
            throw ModelError.invalidConfig(path: path, field: name, reason: "is \(v); expected 0 to \(maxSize)")
        }
    }

    /// Checks the relations the forward pass relies on.
    public func validate(path: String) throws {
        func bad(_ field: String, _ reason: String) -> ModelError { .invalidConfig(path: path, field: field, reason: reason) }
        guard hidden > 0, layers > 0, heads > 0, kvHeads > 0, headDim > 0, ffn > 0, vocabularySize > 0 else {
            throw bad("sizes", "must all be positive (hidden \(hidden), layers \(layers), heads \(heads), kv heads \(kvHeads), head dim \(headDim), ffn \(ffn), vocab \(vocabularySize))")
        }
        guard heads % kvHeads == 0 else { throw bad("num_key_value_heads", "(\(kvHeads)) must divide the head count \(heads)") }
        guard headDim % 2 == 0 else { throw bad("head_dim", "(\(headDim)) must be even for rotary embeddings") }
        guard layerAttention.count == layers else { throw bad("layer_types", "lists \(layerAttention.count) layers, model has \(layers)") }
        guard rmsEpsilon > 0 else { throw bad("rms_norm_eps", "must be positive") }
    }
}
