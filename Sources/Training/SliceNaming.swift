import Foundation
import Models

/// Stored tensor names of trainable tensors, both ways, for one model.
public struct SliceNaming {
    let config: ModelConfig
    private var reverse: [String: (Int, TrainableTensor)] = [:]

    public init(config: ModelConfig) {
        self.config = config
        for l in 0..<config.layers {
            for t in TrainableTensor.allCases { reverse[name(layer: l, t)] = (l, t) }
        }
    }

    /// The stored name, e.g. `blk.3.attn_q.weight` or `model.layers.3.self_attn.q_proj.weight`.
    public func name(layer: Int, _ t: TrainableTensor) -> String {
        TensorNaming.name(t.blockTensor, layer: layer, format: config.format, architecture: config.architecture)
    }

    public func parse(_ name: String) -> (layer: Int, tensor: TrainableTensor)? {
        reverse[name].map { (layer: $0.0, tensor: $0.1) }
    }
}
