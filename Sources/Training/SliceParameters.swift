import Foundation
import Kernels
import Models

/// Reads and writes the trainable rows/columns of a model's weights, in the packed layout of
/// `SliceBuffers` (slice i of a tensor = row/column `indices[i]`, contiguous). The stored
/// weights are never written: slice values live in each projection's float32 `SliceDelta`
/// (full value = stored value + delta).
public enum SliceParameters {
    /// Copies the current values (stored + any delta) of every trainable slice into `out`.
    public static func gather(_ model: Transformer, into out: SliceBuffers) {
        out.forEach { l, t, buf in
            let idx = out.slices.indices(layer: l, t)
            model.weights.layers[l].projection(t).ensureDelta(covering: idx).getFull(units: idx, into: buf.pointer)
        }
    }

    /// Makes the packed slice values of `values` the model's values for those slices.
    public static func scatter(_ values: SliceBuffers, into model: Transformer) {
        values.forEach { l, t, buf in
            let idx = values.slices.indices(layer: l, t)
            model.weights.layers[l].projection(t).ensureDelta(covering: idx).setFull(units: idx, values: buf.pointer)
        }
    }
}
