import Foundation
import Kernels
import ModelIO

/// A decoder-only transformer of any supported architecture, in float32 over OpenBLAS.
public final class Transformer {
    public let config: ModelConfig
    public let weights: ModelWeights
    /// One RoPE table per distinct (base, scaling) among the layers.
    let ropeTables: [RopeTable]
    let layerRope: [Int]
    let work = InferenceWorkspace()

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
        var tables = [RopeTable]()
        var index = [Int]()
        for a in config.layerAttention {
            if let i = tables.firstIndex(where: { $0.base == a.ropeBase && $0.scaling == a.ropeScaling }) {
                index.append(i)
            } else {
                tables.append(RopeTable(headDim: config.headDim, base: a.ropeBase, scaling: a.ropeScaling, capacity: 512))
                index.append(tables.count - 1)
            }
        }
        ropeTables = tables
        layerRope = index
    }

    public func ropeTable(layer l: Int) -> RopeTable { ropeTables[layerRope[l]] }

    public func attentionShape(layer l: Int, queries: Int, keys: Int, firstPosition: Int) -> AttentionShape {
        AttentionShape(queries: queries, keys: keys, firstPosition: firstPosition, heads: config.heads,
                       kvHeads: config.kvHeads, headDim: config.headDim, scale: config.attentionScale,
                       window: config.layerAttention[l].window)
    }

    public func makeCache(capacity: Int = 256) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Writes the scaled embeddings of `tokens` into `x` (`[tokens.count, hidden]`).
    public func embed(_ tokens: [Int32], into x: UnsafeMutablePointer<Float>) throws {
        let d = config.hidden
        for (i, t) in tokens.enumerated() {
            guard t >= 0, Int(t) < config.vocabularySize else {
                throw ModelError.tokenOutOfRange(token: t, vocabulary: config.vocabularySize)
            }
            let src = weights.embedding.pointer + Int(t) * d
            let dst = x + i * d
            if config.embeddingScale == 1 {
                dst.update(from: src, count: d)
            } else {
                for j in 0..<d { dst[j] = src[j] * config.embeddingScale }
            }
        }
    }

    /// Runs `tokens` through the model after the positions already in `cache`, appending their
    /// keys and values. Returns the final hidden states (after the final norm), `[tokens.count, hidden]`,
    /// valid until the next call.
    @discardableResult
    public func forward(_ tokens: [Int32], cache: KVCache, hooks: ForwardHooks? = nil) throws -> UnsafePointer<Float> {
        let c = config
        let T = tokens.count
        let p0 = cache.length
        let L = p0 + T
        cache.reserve(L)
        let w = work
        w.prepare(config: c, rows: T, keys: L, trace: hooks?.layerTrace != nil)
        let x = w.x.pointer, h = w.h.pointer
        try embed(tokens, into: x)
        for l in 0..<c.layers {
            hooks?.residual?(l, x, T)
            let lw = weights.layers[l]
            let mask = hooks?.masks[l]
            let q = w.q.pointer, z = w.z.pointer
            let kAll = cache.keys[l].pointer, vAll = cache.values[l].pointer
            let kNew = kAll + p0 * c.kvDim, vNew = vAll + p0 * c.kvDim

            RMSNorm.forward(y: h, rstd: nil, x: x, weight: lw.attnNorm.pointer, rows: T, dim: c.hidden, eps: c.rmsEpsilon)
            if w.tracing { w.attnIn.pointer.update(from: h, count: T * c.hidden) }
            BLAS.linear(q, h, lw.wq.pointer, m: T, n: c.qDim, k: c.hidden)
            BLAS.linear(kNew, h, lw.wk.pointer, m: T, n: c.kvDim, k: c.hidden)
            BLAS.linear(vNew, h, lw.wv.pointer, m: T, n: c.kvDim, k: c.hidden)
            if let b = lw.qBias { addRowBias(q, b.pointer, rows: T, dim: c.qDim) }
            if let b = lw.kBias { addRowBias(kNew, b.pointer, rows: T, dim: c.kvDim) }
            if let b = lw.vBias { addRowBias(vNew, b.pointer, rows: T, dim: c.kvDim) }
            if let m = mask {
                zeroColumns(q, m.attnQ, rows: T, stride: c.qDim)
                zeroColumns(kNew, m.attnK, rows: T, stride: c.kvDim)
                zeroColumns(vNew, m.attnV, rows: T, stride: c.kvDim)
            }
            if let qn = lw.qNorm, let kn = lw.kNorm {
                RMSNorm.forward(y: q, rstd: nil, x: q, weight: qn.pointer, rows: T * c.heads, dim: c.headDim, eps: c.rmsEpsilon)
                RMSNorm.forward(y: kNew, rstd: nil, x: kNew, weight: kn.pointer, rows: T * c.kvHeads, dim: c.headDim, eps: c.rmsEpsilon)
            }
            if w.tracing {
                w.qPre.pointer.update(from: q, count: T * c.qDim)
                w.kPre.pointer.update(from: kNew, count: T * c.kvDim)
            }
            let table = ropeTable(layer: l)
            RoPE.apply(q, rows: T, heads: c.heads, headDim: c.headDim, stride: c.qDim, firstPosition: p0, table: table, style: c.ropeStyle)
            RoPE.apply(kNew, rows: T, heads: c.kvHeads, headDim: c.headDim, stride: c.kvDim, firstPosition: p0, table: table, style: c.ropeStyle)
            let shape = attentionShape(layer: l, queries: T, keys: L, firstPosition: p0)
            Attention.forward(z: z, probs: w.probs.pointer, q: q, k: kAll, v: vAll, shape: shape)
            if let m = mask { zeroColumns(z, m.attnOutput, rows: T, stride: c.qDim) }
            BLAS.linear(h, z, lw.wo.pointer, m: T, n: c.hidden, k: c.qDim)
            addToResidual(x, h, postNorm: lw.postAttentionNorm, rstd: nil, scratch: h, rows: T)

            let g = w.gate.pointer, u = w.up.pointer
            RMSNorm.forward(y: h, rstd: nil, x: x, weight: lw.ffnNorm.pointer, rows: T, dim: c.hidden, eps: c.rmsEpsilon)
            BLAS.linear(g, h, lw.wGate.pointer, m: T, n: c.ffn, k: c.hidden)
            BLAS.linear(u, h, lw.wUp.pointer, m: T, n: c.ffn, k: c.hidden)
            c.activation.forward(a: g, gate: g, up: u, count: T * c.ffn)
            if let m = mask { zeroColumns(g, m.ffn, rows: T, stride: c.ffn) }
            if let trace = hooks?.layerTrace {
                trace(LayerTrace(layer: l, rows: T, keys: L, firstPosition: p0, attnInput: w.attnIn.pointer,
                                 qPreRoPE: w.qPre.pointer, kPreRoPE: w.kPre.pointer, qRotated: q, kRotated: kAll, values: vAll,
                                 probabilities: w.probs.pointer, headOutputs: z, ffnInput: h, ffnActivation: g, attention: shape))
            }
            BLAS.linear(u, g, lw.wDown.pointer, m: T, n: c.hidden, k: c.ffn)
            addToResidual(x, u, postNorm: lw.postFFNNorm, rstd: nil, scratch: u, rows: T)
        }
        hooks?.residual?(c.layers, x, T)
        cache.length = L
        RMSNorm.forward(y: h, rstd: nil, x: x, weight: weights.outputNorm.pointer, rows: T, dim: c.hidden, eps: c.rmsEpsilon)
        return UnsafePointer(h)
    }

    /// Logits `[rows, vocab]` of final hidden states.
    public func logits(_ y: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, rows: Int) {
        BLAS.linear(y, hidden, weights.head.pointer, m: rows, n: config.vocabularySize, k: config.hidden)
        if let cap = config.finalLogitSoftcap, cap > 0 {
            for i in 0..<(rows * config.vocabularySize) { y[i] = cap * Foundation.tanh(y[i] / cap) }
        }
    }

    /// `x += post(out)`: a sublayer's output enters the residual stream, through the post-norm
    /// when the architecture has one (Gemma 3). `scratch` (`[rows, hidden]`) receives the normed
    /// output and may be `out` itself; `rstd` keeps the norm's statistics for the backward pass.
    @inline(__always)
    func addToResidual(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, postNorm: FloatBuffer?,
                       rstd: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>, rows: Int) {
        let d = config.hidden
        var added = UnsafePointer(out)
        if let pn = postNorm {
            RMSNorm.forward(y: scratch, rstd: rstd, x: out, weight: pn.pointer, rows: rows, dim: d, eps: config.rmsEpsilon)
            added = UnsafePointer(scratch)
        }
        for i in 0..<(rows * d) { x[i] += added[i] }
    }

    @inline(__always)
    func addRowBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows { let row = y + r * dim; for j in 0..<dim { row[j] += b[j] } }
    }

    @inline(__always)
    func zeroColumns(_ y: UnsafeMutablePointer<Float>, _ cols: [Int], rows: Int, stride: Int) {
        guard !cols.isEmpty else { return }
        for r in 0..<rows { let row = y + r * stride; for j in cols { row[j] = 0 } }
    }
}

/// Activation buffers for inference, grown to the largest call and then reused.
final class InferenceWorkspace {
    var x = FloatBuffer(count: 0), h = FloatBuffer(count: 0), q = FloatBuffer(count: 0), z = FloatBuffer(count: 0)
    var gate = FloatBuffer(count: 0), up = FloatBuffer(count: 0), probs = FloatBuffer(count: 0)
    var qPre = FloatBuffer(count: 0), kPre = FloatBuffer(count: 0), attnIn = FloatBuffer(count: 0)
    var tracing = false

    func prepare(config c: ModelConfig, rows T: Int, keys L: Int, trace: Bool) {
        func grow(_ b: inout FloatBuffer, _ n: Int) { if b.count < n { b = FloatBuffer(count: n) } }
        grow(&x, T * c.hidden)
        grow(&h, T * c.hidden)
        grow(&q, T * c.qDim)
        grow(&z, T * c.qDim)
        grow(&gate, T * c.ffn)
        grow(&up, T * max(c.ffn, c.hidden))
        grow(&probs, c.heads * T * L)
        tracing = trace
        if trace {
            grow(&qPre, T * c.qDim)
            grow(&kPre, T * c.kvDim)
            grow(&attnIn, T * c.hidden)
        }
    }
}
