import Foundation
import Kernels
import Models

/// Reads and writes the trainable rows/columns of a model's weights, in the packed layout of
/// `SliceBuffers` (slice i of a tensor = row/column `indices[i]`, contiguous).
public enum SliceParameters {
    /// Copies the current values of every trainable slice into `out`.
    public static func gather(_ model: Transformer, into out: SliceBuffers) {
        transfer(model, out, intoModel: false)
    }

    /// Writes the packed slice values of `values` into the model's weights.
    public static func scatter(_ values: SliceBuffers, into model: Transformer) {
        transfer(model, values, intoModel: true)
    }

    private static func transfer(_ model: Transformer, _ packed: SliceBuffers, intoModel: Bool) {
        let c = model.config
        packed.forEach { l, t, buf in
            guard let w = model.weights.layers[l].tensor(t.blockTensor) else { return }
            let idx = packed.slices.indices(layer: l, t)
            let len = t.sliceLength(c)
            if t.isColumnSlice {
                // column `col` of a [len, inDim] matrix: stride inDim
                let inDim = t.unitCount(c)
                for (i, col) in idx.enumerated() {
                    for r in 0..<len {
                        if intoModel { w[r * inDim + col] = buf[i * len + r] } else { buf[i * len + r] = w[r * inDim + col] }
                    }
                }
            } else {
                for (i, row) in idx.enumerated() {
                    if intoModel {
                        (w.pointer + row * len).update(from: buf.pointer + i * len, count: len)
                    } else {
                        (buf.pointer + i * len).update(from: w.pointer + row * len, count: len)
                    }
                }
            }
        }
    }
}
