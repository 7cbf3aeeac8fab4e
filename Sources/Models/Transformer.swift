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
            let dst = x + i * d
            weights.embedding.dequantize(rows: Int(t)..<(Int(t) + 1), into: dst)
            if config.embeddingScale != 1 {
                for j in 0..<d { dst[j] *= config.embeddingScale }
            }
        }
    }

    /// Runs `tokens` through the model after the positions already in `cache`, appending their
    /// keys and values. Returns the final hidden states (after the final norm), `[tokens.count, hidden]`,
    /// valid until the next call.
    @discardableResult
    public func forward(_ tokens: [Int32], cache: KVCache, hooks: ForwardHooks? = nil) throws -> UnsafePointer<Float> {
        try forward(batch: [SequenceStep(tokens: tokens, cache: cache)], hooks: hooks)
    }

    /// Runs several independent sequences in one pass: every projection and the feed-forward network
    /// see all their new rows at once (one matrix product instead of one per sequence, which is what
    /// makes batched decoding fast), attention runs per sequence against its own cache.
    /// Returns the final hidden states of all new rows, `[Σ tokens, hidden]`, sequence after sequence
    /// in `batch` order, valid until the next call. Hooks see all rows of the call; `layerTrace` needs
    /// a single sequence. Each sequence's numbers equal a call with that sequence alone up to float32
    /// rounding (BLAS may sum in another order for another row count).
    @discardableResult
    public func forward(batch: [SequenceStep], hooks: ForwardHooks? = nil) throws -> UnsafePointer<Float> {
        let c = config
        guard hooks?.layerTrace == nil || batch.count == 1 else {
            throw ModelError.unsupportedInBatch(feature: "a layer trace")
        }
        guard Set(batch.map { ObjectIdentifier($0.cache) }).count == batch.count else {
            throw ModelError.unsupportedInBatch(feature: "two sequences sharing one cache")
        }
        var offsets = [Int](), total = 0, maxProbs = 0
        for s in batch {
            guard !s.tokens.isEmpty else { throw ModelError.emptySequence }
            offsets.append(total)
            total += s.tokens.count
            maxProbs = max(maxProbs, s.tokens.count * (s.cache.length + s.tokens.count))
        }
        let R = total
        guard R > 0 else { return UnsafePointer(work.h.pointer) }
        for s in batch { s.cache.reserve(s.cache.length + s.tokens.count) }
        let w = work
        w.prepare(config: c, rows: R, probs: c.heads * maxProbs, trace: hooks?.layerTrace != nil)
        let x = w.x.pointer, h = w.h.pointer
        for (b, s) in batch.enumerated() { try embed(s.tokens, into: x + offsets[b] * c.hidden) }
        for l in 0..<c.layers {
            hooks?.residual?(l, x, R)
            let lw = weights.layers[l]
            let mask = hooks?.masks[l]
            let q = w.q.pointer, z = w.z.pointer, kNew = w.k.pointer, vNew = w.v.pointer

            RMSNorm.forward(y: h, rstd: nil, x: x, weight: lw.attnNorm.pointer, rows: R, dim: c.hidden, eps: c.rmsEpsilon)
            if w.tracing { w.attnIn.pointer.update(from: h, count: R * c.hidden) }
            lw.wq.forward(q, h, m: R)
            lw.wk.forward(kNew, h, m: R)
            lw.wv.forward(vNew, h, m: R)
            if let b = lw.qBias { addRowBias(q, b.pointer, rows: R, dim: c.qDim) }
            if let b = lw.kBias { addRowBias(kNew, b.pointer, rows: R, dim: c.kvDim) }
            if let b = lw.vBias { addRowBias(vNew, b.pointer, rows: R, dim: c.kvDim) }
            if let m = mask {
                zeroColumns(q, m.attnQ, rows: R, stride: c.qDim)
                zeroColumns(kNew, m.attnK, rows: R, stride: c.kvDim)
                zeroColumns(vNew, m.attnV, rows: R, stride: c.kvDim)
            }
            if let qn = lw.qNorm, let kn = lw.kNorm {
                RMSNorm.forward(y: q, rstd: nil, x: q, weight: qn.pointer, rows: R * c.heads, dim: c.headDim, eps: c.rmsEpsilon)
                RMSNorm.forward(y: kNew, rstd: nil, x: kNew, weight: kn.pointer, rows: R * c.kvHeads, dim: c.headDim, eps: c.rmsEpsilon)
            }
            if w.tracing {
                w.qPre.pointer.update(from: q, count: R * c.qDim)
                w.kPre.pointer.update(from: kNew, count: R * c.kvDim)
            }
            let table = ropeTable(layer: l)
            var traceShape: AttentionShape?
            for (b, s) in batch.enumerated() {
                let T = s.tokens.count, p0 = s.cache.length, L = p0 + T, o = offsets[b]
                let qb = q + o * c.qDim, kb = kNew + o * c.kvDim
                RoPE.apply(qb, rows: T, heads: c.heads, headDim: c.headDim, stride: c.qDim, firstPosition: p0, table: table, style: c.ropeStyle)
                RoPE.apply(kb, rows: T, heads: c.kvHeads, headDim: c.headDim, stride: c.kvDim, firstPosition: p0, table: table, style: c.ropeStyle)
                let kAll = s.cache.keys[l].pointer, vAll = s.cache.values[l].pointer
                (kAll + p0 * c.kvDim).update(from: kb, count: T * c.kvDim)
                (vAll + p0 * c.kvDim).update(from: vNew + o * c.kvDim, count: T * c.kvDim)
                let shape = attentionShape(layer: l, queries: T, keys: L, firstPosition: p0)
                Attention.forward(z: z + o * c.qDim, probs: w.probs.pointer, q: qb, k: kAll, v: vAll, shape: shape)
                traceShape = shape
            }
            if let m = mask { zeroColumns(z, m.attnOutput, rows: R, stride: c.qDim) }
            lw.wo.forward(h, z, m: R)
            addToResidual(x, h, postNorm: lw.postAttentionNorm, rstd: nil, scratch: h, rows: R)

            let g = w.gate.pointer, u = w.up.pointer
            RMSNorm.forward(y: h, rstd: nil, x: x, weight: lw.ffnNorm.pointer, rows: R, dim: c.hidden, eps: c.rmsEpsilon)
            lw.wGate.forward(g, h, m: R)
            lw.wUp.forward(u, h, m: R)
            c.activation.forward(a: g, gate: g, up: u, count: R * c.ffn)
            if let m = mask { zeroColumns(g, m.ffn, rows: R, stride: c.ffn) }
            if let trace = hooks?.layerTrace, let shape = traceShape {
                let s = batch[0]
                trace(LayerTrace(layer: l, rows: R, keys: shape.keys, firstPosition: shape.firstPosition, attnInput: w.attnIn.pointer,
                                 qPreRoPE: w.qPre.pointer, kPreRoPE: w.kPre.pointer, qRotated: q, kRotated: s.cache.keys[l].pointer,
                                 values: s.cache.values[l].pointer, probabilities: w.probs.pointer, headOutputs: z, ffnInput: h,
                                 ffnActivation: g, attention: shape))
            }
            lw.wDown.forward(u, g, m: R)
            addToResidual(x, u, postNorm: lw.postFFNNorm, rstd: nil, scratch: u, rows: R)
        }
        hooks?.residual?(c.layers, x, R)
        for s in batch { s.cache.length += s.tokens.count }
        RMSNorm.forward(y: h, rstd: nil, x: x, weight: weights.outputNorm.pointer, rows: R, dim: c.hidden, eps: c.rmsEpsilon)
        return UnsafePointer(h)
    }

    /// Logits `[rows, vocab]` of final hidden states.
    public func logits(_ y: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, rows: Int) {
        weights.head.linear(y, hidden, m: rows)
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

/// One sequence of a batched forward call: `tokens` are appended after the positions `cache` holds.
public struct SequenceStep {
    public var tokens: [Int32]
    public var cache: KVCache
    public init(tokens: [Int32], cache: KVCache) { self.tokens = tokens; self.cache = cache }
}

/// Activation buffers for inference, grown to the largest call and then reused.
final class InferenceWorkspace {
    var x = FloatBuffer(count: 0), h = FloatBuffer(count: 0), q = FloatBuffer(count: 0), z = FloatBuffer(count: 0)
    var k = FloatBuffer(count: 0), v = FloatBuffer(count: 0)
    var gate = FloatBuffer(count: 0), up = FloatBuffer(count: 0), probs = FloatBuffer(count: 0)
    var qPre = FloatBuffer(count: 0), kPre = FloatBuffer(count: 0), attnIn = FloatBuffer(count: 0)
    var tracing = false

    /// `rows`: new rows of the call; `probs`: the largest attention probability block of one sequence.
    func prepare(config c: ModelConfig, rows T: Int, probs: Int, trace: Bool) {
        func grow(_ b: inout FloatBuffer, _ n: Int) { if b.count < n { b = FloatBuffer(count: n) } }
        grow(&x, T * c.hidden)
        grow(&h, T * c.hidden)
        grow(&q, T * c.qDim)
        grow(&z, T * c.qDim)
        grow(&k, T * c.kvDim)
        grow(&v, T * c.kvDim)
        grow(&gate, T * c.ffn)
        grow(&up, T * max(c.ffn, c.hidden))
        grow(&self.probs, probs)
        tracing = trace
        if trace {
            grow(&qPre, T * c.qDim)
            grow(&kPre, T * c.kvDim)
            grow(&attnIn, T * c.hidden)
        }
    }
}
