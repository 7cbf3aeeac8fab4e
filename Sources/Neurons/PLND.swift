import Foundation
import Kernels
import Models

/// Parallel Language-specific Neuron Detection (method §3): the importance of every neuron of
/// every layer for one document, from a single forward pass.
///
/// Feed-forward, attention-output and value importances are the exact closed forms; query and key
/// importances are the squared change of the attention probabilities when one pre-RoPE unit is
/// zeroed, with the exact RoPE term and the attention scale, over the positions each layer's mask
/// allows. The q/k part streams one query row at a time (memory linear in the document length)
/// and runs (kv head, row block) tasks in parallel; results do not depend on the thread count.
public final class PLND {
    public let transformer: Transformer
    /// Worker threads for the query/key importance (1 = on the calling thread).
    public let threads: Int
    /// Per layer: squared norm of column k of `ffn_down` (`[hidden, ffn]`), `[ffn]`.
    private let downNorms: [[Double]]
    /// Per layer: squared norm of column j of `attn_output` (`[hidden, qDim]`), `[qDim]`.
    private let outputNorms: [[Double]]
    /// Per layer: for kv head g and unit e, the Gram matrix of the `attn_output` columns of the
    /// heads reading g, `[kvHeads, headDim, group, group]`.
    private let valueGram: [[Double]]
    private let qk: QKImportance
    private let cache: KVCache

    /// Precomputes the weight norms PLND needs (one pass over `attn_output` and `ffn_down`).
    public init(transformer: Transformer, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.transformer = transformer
        self.threads = max(1, threads)
        let c = transformer.config
        let group = c.heads / c.kvHeads
        var down = [[Double]](), out = [[Double]](), gram = [[Double]]()
        for l in 0..<c.layers {
            let lw = transformer.weights.layers[l]
            // Effective weights (stored + any merged delta), read a tile of rows at a time.
            var dn = [Double](repeating: 0, count: c.ffn)
            lw.wDown.forEachRowTile { _, n, tile in Self.addColumnSquares(&dn, tile, rows: n, cols: c.ffn) }
            down.append(dn)
            var on = [Double](repeating: 0, count: c.qDim)
            var g = [Double](repeating: 0, count: c.kvDim * group * group)
            lw.wo.forEachRowTile { _, n, tile in
                Self.addColumnSquares(&on, tile, rows: n, cols: c.qDim)
                for r in 0..<n {
                    let row = tile + r * c.qDim
                    for kv in 0..<c.kvHeads {
                        for e in 0..<c.headDim {
                            let base = (kv * c.headDim + e) * group * group
                            for i in 0..<group {
                                let a = Double(row[(kv * group + i) * c.headDim + e])
                                for j in 0..<group { g[base + i * group + j] += a * Double(row[(kv * group + j) * c.headDim + e]) }
                            }
                        }
                    }
                }
            }
            out.append(on)
            gram.append(g)
        }
        downNorms = down
        outputNorms = out
        valueGram = gram
        qk = QKImportance(config: c)
        cache = transformer.makeCache(capacity: 512)
    }

    /// `norms[j] += Σ_r w[r, j]²` over a tile of `rows` rows.
    static func addColumnSquares(_ norms: inout [Double], _ w: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = w + r * cols
            for j in 0..<cols { let v = Double(row[j]); norms[j] += v * v }
        }
    }

    /// Runs `tokens` (one document, BOS included if the model uses one) and returns the importance
    /// of every neuron of the requested layers (all when `layers` is nil), in layer order.
    public func importance(of tokens: [Int32], layers wanted: Set<Int>? = nil) throws -> [LayerImportance] {
        guard !tokens.isEmpty else { throw NeuronsError.emptyDocument(index: 0) }
        var results = [LayerImportance]()
        cache.reset()
        let hooks = ForwardHooks(layerTrace: { [self] trace in
            guard wanted?.contains(trace.layer) ?? true else { return }
            results.append(layerImportance(trace))
        })
        try transformer.forward(tokens, cache: cache, hooks: hooks)
        return results
    }

    private func layerImportance(_ tr: LayerTrace) -> LayerImportance {
        let c = transformer.config
        let l = tr.layer, T = tr.rows
        let group = c.heads / c.kvHeads, hd = c.headDim

        // Feed-forward: (Σ_t a[t,k]²)·‖W_down[:,k]‖².
        var ffn = [Double](repeating: 0, count: c.ffn)
        for t in 0..<T {
            let a = tr.ffnActivation + t * c.ffn
            for k in 0..<c.ffn { let v = Double(a[k]); ffn[k] += v * v }
        }
        for k in 0..<c.ffn { ffn[k] *= downNorms[l][k] }

        // Attention output: (Σ_t z[t,j]²)·‖W_O[:,j]‖²; value: Σ_t ‖Σ_{h reads g} z[t,h,e]·W_O[:,h,e]‖²
        // = Σ_{i,j} (Σ_t z[t,h_i,e] z[t,h_j,e])·Gram[g,e,i,j].
        var out = [Double](repeating: 0, count: c.qDim)
        var zz = [Double](repeating: 0, count: c.kvDim * group * group)
        for t in 0..<T {
            let z = tr.headOutputs + t * c.qDim
            for j in 0..<c.qDim { let v = Double(z[j]); out[j] += v * v }
            for kv in 0..<c.kvHeads {
                for e in 0..<hd {
                    let base = (kv * hd + e) * group * group
                    for i in 0..<group {
                        let a = Double(z[(kv * group + i) * hd + e])
                        for j in 0..<group { zz[base + i * group + j] += a * Double(z[(kv * group + j) * hd + e]) }
                    }
                }
            }
        }
        let gram = valueGram[l]
        var value = [Double](repeating: 0, count: c.kvDim)
        for u in 0..<c.kvDim {
            var s = 0.0
            for m in 0..<(group * group) { s += zz[u * group * group + m] * gram[u * group * group + m] }
            value[u] = s
        }
        for j in 0..<c.qDim { out[j] *= outputNorms[l][j] }

        let (q, k) = qk.run(tr, table: transformer.ropeTable(layer: l), config: c, threads: threads)
        return LayerImportance(layer: l, attnQ: q, attnK: k, attnV: value, attnOutput: out, ffn: ffn)
    }
}
