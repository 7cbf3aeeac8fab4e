import Foundation

/// The weight tensors of one transformer block, by role.
public enum BlockTensor: String, CaseIterable, Codable {
    case attnNorm, attnQ, attnK, attnV, attnOutput, attnQNorm, attnKNorm, attnQBias, attnKBias, attnVBias
    case postAttentionNorm, ffnNorm, ffnGate, ffnUp, ffnDown, postFFNNorm

    /// The short structure name used in neuron sets and deltas (`attn_q`, `ffn_down`, …).
    public var ggufStem: String {
        switch self {
        case .attnNorm: return "attn_norm"
        case .attnQ: return "attn_q"
        case .attnK: return "attn_k"
        case .attnV: return "attn_v"
        case .attnOutput: return "attn_output"
        case .attnQNorm: return "attn_q_norm"
        case .attnKNorm: return "attn_k_norm"
        case .attnQBias: return "attn_q"
        case .attnKBias: return "attn_k"
        case .attnVBias: return "attn_v"
        case .postAttentionNorm: return "post_attention_norm"
        case .ffnNorm: return "ffn_norm"
        case .ffnGate: return "ffn_gate"
        case .ffnUp: return "ffn_up"
        case .ffnDown: return "ffn_down"
        case .postFFNNorm: return "post_ffw_norm"
        }
    }

    var isBias: Bool { self == .attnQBias || self == .attnKBias || self == .attnVBias }
}

public enum TensorNaming {
    /// The stored name of a block tensor for a format and architecture.
    public static func name(_ t: BlockTensor, layer l: Int, format: WeightFormat, architecture: Architecture) -> String {
        switch format {
        case .gguf:
            return "blk.\(l).\(t.ggufStem).\(t.isBias ? "bias" : "weight")"
        case .huggingFace:
            let p = "model.layers.\(l)."
            switch t {
            case .attnNorm: return p + "input_layernorm.weight"
            case .attnQ: return p + "self_attn.q_proj.weight"
            case .attnK: return p + "self_attn.k_proj.weight"
            case .attnV: return p + "self_attn.v_proj.weight"
            case .attnOutput: return p + "self_attn.o_proj.weight"
            case .attnQNorm: return p + "self_attn.q_norm.weight"
            case .attnKNorm: return p + "self_attn.k_norm.weight"
            case .attnQBias: return p + "self_attn.q_proj.bias"
            case .attnKBias: return p + "self_attn.k_proj.bias"
            case .attnVBias: return p + "self_attn.v_proj.bias"
            // Llama-style blocks call the pre-FFN norm "post_attention_layernorm"; Gemma 3 uses that
            // name for the norm of the attention output and has a separate pre-FFN norm.
            case .postAttentionNorm: return p + "post_attention_layernorm.weight"
            case .ffnNorm:
                return p + (architecture == .gemma3 ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight")
            case .ffnGate: return p + "mlp.gate_proj.weight"
            case .ffnUp: return p + "mlp.up_proj.weight"
            case .ffnDown: return p + "mlp.down_proj.weight"
            case .postFFNNorm: return p + "post_feedforward_layernorm.weight"
            }
        }
    }

    public static func embedding(_ format: WeightFormat) -> String {
        format == .gguf ? "token_embd.weight" : "model.embed_tokens.weight"
    }
    public static func outputNorm(_ format: WeightFormat) -> String {
        format == .gguf ? "output_norm.weight" : "model.norm.weight"
    }
    public static func output(_ format: WeightFormat) -> String {
        format == .gguf ? "output.weight" : "lm_head.weight"
    }
}
