import Foundation
import Kernels
import ModelIO

extension ModelConfig {
    /// Reads the configuration from a GGUF file's metadata (llama.cpp's key conventions).
    public init(gguf: GGUFFile) throws {
        let path = gguf.url.path
        guard let archName = gguf.metadata["general.architecture"]?.string else {
            throw ModelIOError.missingMetadata(path: path, key: "general.architecture")
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw ModelError.unsupportedArchitecture(path: path, architecture: archName)
        }
        func int(_ key: String) throws -> Int {
            guard let v = gguf.metadata["\(archName).\(key)"]?.int else {
                throw ModelIOError.missingMetadata(path: path, key: "\(archName).\(key)")
            }
            return v
        }
        func double(_ key: String) -> Double? { gguf.metadata["\(archName).\(key)"]?.double }

        let hidden = try int("embedding_length")
        let layers = try int("block_count")
        let heads = try int("attention.head_count")
        let kvHeads = (try? int("attention.head_count_kv")) ?? heads
        let headDim = (try? int("attention.key_length")) ?? hidden / max(heads, 1)
        let ffn = try int("feed_forward_length")
        let p = archName + "."
        try ModelConfig.checkSizes(path: path, [(p + "embedding_length", hidden), (p + "attention.head_count", heads),
                                                (p + "attention.head_count_kv", kvHeads), (p + "attention.key_length", headDim),
                                                (p + "feed_forward_length", ffn)],
                                   layers: (p + "block_count", layers))
        guard let embd = gguf.tensorInfo("token_embd.weight") else {
            throw ModelIOError.missingTensor(path: path, tensor: "token_embd.weight")
        }
        let vocab = embd.shape[0]
        let eps = Float(double("attention.layer_norm_rms_epsilon") ?? 1e-5)
        let base = double("rope.freq_base") ?? 10000

        var scaling = RopeScaling.none
        if let type = gguf.metadata["\(archName).rope.scaling.type"]?.string, type != "none" {
            guard type == "linear", let f = double("rope.scaling.factor") else {
                throw ModelError.invalidConfig(path: path, field: "\(archName).rope.scaling.type",
                                               reason: "is '\(type)', which is not supported (supported: none, linear)")
            }
            scaling = .linear(factor: f)
        }
        if let freqs = gguf.tensorInfo("rope_freqs.weight") {
            // Llama 3 files carry their RoPE scaling as per-frequency divisors.
            let factors = try gguf.floats(freqs.name).map(Double.init)
            guard factors.count == headDim / 2 else {
                throw ModelError.shapeMismatch(path: path, tensor: freqs.name, expected: [headDim / 2], found: freqs.shape)
            }
            scaling = .factors(factors)
        }

        var attention = [LayerAttention]()
        switch arch {
        case .gemma3:
            // llama.cpp's Gemma 3 convention: every 6th layer is global (RoPE base from the file),
            // the others slide over `attention.sliding_window` tokens with RoPE base 10 000.
            let window = (try? int("attention.sliding_window")) ?? 512
            for l in 0..<layers {
                let global = (l + 1) % 6 == 0
                attention.append(LayerAttention(window: global ? 0 : window, ropeBase: global ? base : 10000,
                                                ropeScaling: global ? scaling : .none))
            }
        default:
            let window = (try? int("attention.sliding_window")) ?? 0
            attention = Array(repeating: LayerAttention(window: window, ropeBase: base, ropeScaling: scaling), count: layers)
        }

        self.init(
            architecture: arch, format: .gguf, vocabularySize: vocab, hidden: hidden, layers: layers,
            heads: heads, kvHeads: kvHeads, headDim: headDim, ffn: ffn, rmsEpsilon: eps,
            // convert_hf_to_gguf permutes Llama/Mistral q/k rows so that RoPE rotates adjacent pairs.
            ropeStyle: (arch == .llama || arch == .mistral) ? .interleaved : .halves,
            layerAttention: attention,
            attentionScale: 1 / Float(headDim).squareRoot(),
            activation: arch == .gemma3 ? .gegluTanh : .swiglu,
            qkNorm: arch == .qwen3 || arch == .gemma3,
            qkvBias: arch == .qwen2,
            sandwichNorms: arch == .gemma3,
            normWeightOffset: 0,
            embeddingScale: arch == .gemma3 ? Float(Double(hidden).squareRoot()) : 1,
            tiedEmbeddings: gguf.tensorInfo("output.weight") == nil,
            finalLogitSoftcap: double("final_logit_softcapping").map(Float.init)
        )
        try validate(path: path)
    }
}
