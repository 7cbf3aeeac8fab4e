import Foundation
import Kernels

extension ModelConfig {
    /// Reads a Hugging Face `config.json` (both the older `rope_theta`/`rope_scaling`/
    /// `sliding_window_pattern` keys and the newer `rope_parameters`/`layer_types` style).
    /// - Parameter hasLMHead: whether the checkpoint stores a separate `lm_head.weight`.
    public init(huggingFaceConfig c: [String: Any], path: String, hasLMHead: Bool) throws {
        func bad(_ field: String, _ reason: String) -> ModelError { .invalidConfig(path: path, field: field, reason: reason) }
        func int(_ key: String) throws -> Int {
            guard let v = c[key] as? NSNumber else { throw bad(key, "is missing or not a number") }
            return v.intValue
        }
        func optInt(_ key: String) -> Int? { (c[key] as? NSNumber)?.intValue }
        func double(_ key: String) -> Double? { (c[key] as? NSNumber)?.doubleValue }

        let modelType = (c["model_type"] as? String) ?? ""
        let arch: Architecture
        switch modelType {
        case "llama": arch = .llama
        case "mistral": arch = .mistral
        case "qwen2": arch = .qwen2
        case "qwen3": arch = .qwen3
        case "gemma3_text", "gemma3": arch = .gemma3
        default: throw ModelError.unsupportedArchitecture(path: path, architecture: modelType.isEmpty ? "(no model_type)" : modelType)
        }
        if modelType == "gemma3" && c["text_config"] != nil {
            throw bad("model_type", "is a multimodal Gemma 3 checkpoint; use the text-only model (gemma3_text)")
        }
        let hidden = try int("hidden_size")
        let layers = try int("num_hidden_layers")
        let heads = try int("num_attention_heads")
        let kvHeads = optInt("num_key_value_heads") ?? heads
        let headDim = optInt("head_dim") ?? hidden / max(heads, 1)
        let ffn = try int("intermediate_size")
        let vocab = try int("vocab_size")
        try ModelConfig.checkSizes(path: path, [("hidden_size", hidden), ("num_attention_heads", heads), ("num_key_value_heads", kvHeads),
                                                ("head_dim", headDim), ("intermediate_size", ffn), ("vocab_size", vocab)],
                                   layers: ("num_hidden_layers", layers))
        let eps = Float(double("rms_norm_eps") ?? 1e-6)

        // RoPE parameters: per layer type in the newest style, else one set.
        func parseScaling(_ d: [String: Any]?, field: String) throws -> RopeScaling {
            guard let d else { return .none }
            let type = (d["rope_type"] as? String) ?? (d["type"] as? String) ?? "default"
            func num(_ k: String) throws -> Double {
                guard let v = (d[k] as? NSNumber)?.doubleValue else { throw bad("\(field).\(k)", "is missing") }
                return v
            }
            switch type {
            case "default": return .none
            case "linear": return .linear(factor: try num("factor"))
            case "llama3":
                return .llama3(factor: try num("factor"), lowFreqFactor: try num("low_freq_factor"),
                               highFreqFactor: try num("high_freq_factor"),
                               originalMaxPositions: try num("original_max_position_embeddings"))
            default: throw bad("\(field).rope_type", "is '\(type)', which is not supported (supported: default, linear, llama3)")
            }
        }
        var globalBase = double("rope_theta") ?? 10000
        var localBase = double("rope_local_base_freq") ?? 10000
        var globalScaling = try parseScaling(c["rope_scaling"] as? [String: Any], field: "rope_scaling")
        var localScaling = RopeScaling.none
        if let rp = c["rope_parameters"] as? [String: Any] {
            if let full = rp["full_attention"] as? [String: Any] {
                globalBase = (full["rope_theta"] as? NSNumber)?.doubleValue ?? globalBase
                globalScaling = try parseScaling(full, field: "rope_parameters.full_attention")
                if let slide = rp["sliding_attention"] as? [String: Any] {
                    localBase = (slide["rope_theta"] as? NSNumber)?.doubleValue ?? localBase
                    localScaling = try parseScaling(slide, field: "rope_parameters.sliding_attention")
                }
            } else {
                globalBase = (rp["rope_theta"] as? NSNumber)?.doubleValue ?? globalBase
                globalScaling = try parseScaling(rp, field: "rope_parameters")
            }
        }
        if arch != .gemma3 {
            localBase = globalBase
            localScaling = globalScaling
        }

        // Which layers slide.
        let window = optInt("sliding_window") ?? 0
        var sliding = [Bool](repeating: false, count: layers)
        if let types = c["layer_types"] as? [String] {
            guard types.count == layers else { throw bad("layer_types", "has \(types.count) entries for \(layers) layers") }
            for (i, t) in types.enumerated() {
                switch t {
                case "sliding_attention": sliding[i] = true
                case "full_attention": sliding[i] = false
                default: throw bad("layer_types[\(i)]", "is '\(t)' (expected full_attention or sliding_attention)")
                }
            }
        } else {
            switch arch {
            case .gemma3:
                let pattern = optInt("sliding_window_pattern") ?? 6
                for i in 0..<layers { sliding[i] = pattern > 0 && (i + 1) % pattern != 0 }
            case .mistral:
                for i in 0..<layers { sliding[i] = window > 0 }
            case .qwen2, .qwen3:
                if (c["use_sliding_window"] as? Bool) == true {
                    let from = optInt("max_window_layers") ?? layers
                    for i in 0..<layers { sliding[i] = i >= from }
                }
            case .llama: break
            }
        }
        if sliding.contains(true) && window <= 0 { throw bad("sliding_window", "must be positive when layers slide") }
        let attention = (0..<layers).map { i in
            sliding[i] ? LayerAttention(window: window, ropeBase: localBase, ropeScaling: localScaling)
                       : LayerAttention(window: 0, ropeBase: globalBase, ropeScaling: globalScaling)
        }

        let act = (c["hidden_activation"] as? String) ?? (c["hidden_act"] as? String) ?? "silu"
        let activation: GatedActivation
        switch act {
        case "silu", "swish": activation = .swiglu
        case "gelu_pytorch_tanh", "gelu_tanh": activation = .gegluTanh
        default: throw bad("hidden_act", "is '\(act)' (supported: silu, gelu_pytorch_tanh)")
        }
        if (c["attention_bias"] as? Bool) == true && arch != .qwen2 {
            throw bad("attention_bias", "is true; biases on \(modelType) attention projections are not supported")
        }
        if let soft = double("attn_logit_softcapping"), soft > 0 {
            throw bad("attn_logit_softcapping", "is set; attention soft-capping (Gemma 2) is not supported")
        }
        var scale = 1 / Float(headDim).squareRoot()
        if arch == .gemma3, let s = double("query_pre_attn_scalar") { scale = Float(1 / s.squareRoot()) }

        self.init(
            architecture: arch, format: .huggingFace, vocabularySize: vocab, hidden: hidden, layers: layers,
            heads: heads, kvHeads: kvHeads, headDim: headDim, ffn: ffn, rmsEpsilon: eps,
            ropeStyle: .halves, layerAttention: attention, attentionScale: scale, activation: activation,
            qkNorm: arch == .qwen3 || arch == .gemma3,
            qkvBias: arch == .qwen2,
            sandwichNorms: arch == .gemma3,
            normWeightOffset: arch == .gemma3 ? 1 : 0,
            embeddingScale: arch == .gemma3 ? Float(Double(hidden).squareRoot()) : 1,
            tiedEmbeddings: !hasLMHead,
            finalLogitSoftcap: double("final_logit_softcapping").map(Float.init)
        )
        try validate(path: path)
    }
}
