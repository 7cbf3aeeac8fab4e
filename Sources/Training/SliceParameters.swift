import Foundation
import Kernels
import Models

/// Reads and writes the trainable rows/columns of a model's weights, in the packed layout of
/// `SliceBuffers` (slice i of a tensor = row/column `indices[i]`, contiguous).
public enum SliceParameters {
    /// Copies the current values of every trainable slice into `out`.
    public static func gather(_ model: Transformer, into out: SliceBuffers) {
        out.forEach { l, t, buf in
            let w = model.weights.layers[l].tensor(t.blockTensor)!
            let idx = out.slices.indices(layer: l, t)
            let c = model.config
            if t.isColumnSlice {
                let inDim = t == .attnOutput ? c.qDim : c.ffn
                let rows = c.hidden
                for (i, col) in idx.enumerated() {
                    for r in 0..<rows { buf[i * rows + r] = w[r * inDim + col] }
                }
            } else {
                let len = c.hidden
                for (i, row) in idx.enumerated() {
                    (buf.pointer + i * len).update(from: w.pointer + row * len, count: len)
                }
            }
        }
    }

    /// Writes the packed slice values of `values` into the model's weights.
    public static func scatter(_ values: SliceBuffers, into model: Transformer) {
        values.forEach { l, t, buf in
            let w = model.weights.layers[l].tensor(t.blockTensor)!
            let idx = values.slices.indices(layer: l, t)
            let c = model.config
            if t.isColumnSlice {
                let inDim = t == .attnOutput ? c.qDim : c.ffn
                let rows = c.hidden
                for (i, col) in idx.enumerated() {
                    for r in 0..<rows { w[r * inDim + col] = buf[i * rows + r] }
                }
            } else {
                let len = c.hidden
                for (i, row) in idx.enumerated() {
                    (w.pointer + row * len).update(from: buf.pointer + i * len, count: len)
                }
            }
        }
    }
}
