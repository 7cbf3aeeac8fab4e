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
}
