import Foundation
import Models

/// Turns neuron indices per layer and structure (`attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn`)
/// into the trainable rows/columns a recipe asks for: an `ffn` neuron k trains row k of
/// `ffn_gate`/`ffn_up` and column k of `ffn_down` (those listed in `trainable`), the attention
/// neurons their own row (q/k/v) or column (output).
public enum NeuronSelection {
    /// From per-layer masks (the form neuron sets use).
    public static func slices(masks: [Int: LayerMask], trainable: [TrainableTensor], config: ModelConfig) -> TrainableSlices {
        var d = [Int: [String: [Int]]]()
        for (l, m) in masks {
            d[l] = ["attn_q": m.attnQ, "attn_k": m.attnK, "attn_v": m.attnV, "attn_output": m.attnOutput, "ffn": m.ffn]
        }
        return slices(neurons: d, trainable: trainable, config: config)
    }

    public static func slices(neurons: [Int: [String: [Int]]], trainable: [TrainableTensor], config: ModelConfig) -> TrainableSlices {
        var s = TrainableSlices(layers: config.layers)
        for (l, structures) in neurons where l < config.layers {
            for t in trainable {
                let key: String
                switch t {
                case .attnQ: key = "attn_q"
                case .attnK: key = "attn_k"
                case .attnV: key = "attn_v"
                case .attnOutput: key = "attn_output"
                case .ffnGate, .ffnUp, .ffnDown: key = "ffn"
                }
                s.set(layer: l, t, structures[key] ?? [])
            }
        }
        return s
    }
}
