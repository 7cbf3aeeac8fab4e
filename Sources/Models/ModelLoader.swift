import Foundation
import Kernels
import ModelIO

/// Builds a `Transformer` from a model file or directory.
public enum ModelLoader {
    /// Loads a GGUF file.
    public static func load(gguf: GGUFFile) throws -> Transformer {
        let config = try ModelConfig(gguf: gguf)
        let weights = try ModelWeights(config: config, source: gguf, path: gguf.url.path)
        return Transformer(config: config, weights: weights)
    }

    /// Loads a Hugging Face model directory's weights and configuration.
    public static func load(huggingFace dir: HuggingFaceModelDirectory) throws -> Transformer {
        let path = dir.url.appendingPathComponent("config.json").path
        let modelType = dir.config["model_type"] as? String ?? ""
        let tiedDefault = modelType.hasPrefix("gemma")
        let tied = (dir.config["tie_word_embeddings"] as? Bool) ?? tiedDefault
        let config = try ModelConfig(huggingFaceConfig: dir.config, path: path, hasLMHead: !tied)
        let weights = try ModelWeights(config: config, source: dir.weights, path: dir.url.path)
        return Transformer(config: config, weights: weights)
    }
}
