import Foundation
import Kernels

/// Activations one training sequence keeps for its backward pass, plus backward scratch.
/// Allocated once for a maximum sequence length and reused for every step.
public final class TrainingWorkspace {
    public let maxTokens: Int
    let c: ModelConfig
    final class Saved {
        let xIn, rstd1, h1, qPre, qRstd, kPre, kRstd, qR, kR, v, probs, z, attnOut, rstdPA, xMid, rstd2, h2, gate, up, a, ffnOut, rstdPF: FloatBuffer
        init(_ c: ModelConfig, _ T: Int) {
            let d = c.hidden
            xIn = FloatBuffer(count: T * d); rstd1 = FloatBuffer(count: T); h1 = FloatBuffer(count: T * d)
            qPre = FloatBuffer(count: c.qkNorm ? T * c.qDim : 0); qRstd = FloatBuffer(count: c.qkNorm ? T * c.heads : 0)
            kPre = FloatBuffer(count: c.qkNorm ? T * c.kvDim : 0); kRstd = FloatBuffer(count: c.qkNorm ? T * c.kvHeads : 0)
            qR = FloatBuffer(count: T * c.qDim); kR = FloatBuffer(count: T * c.kvDim); v = FloatBuffer(count: T * c.kvDim)
            probs = FloatBuffer(count: c.heads * T * T); z = FloatBuffer(count: T * c.qDim)
            attnOut = FloatBuffer(count: T * d); rstdPA = FloatBuffer(count: c.sandwichNorms ? T : 0)
            xMid = FloatBuffer(count: T * d); rstd2 = FloatBuffer(count: T); h2 = FloatBuffer(count: T * d)
            gate = FloatBuffer(count: T * c.ffn); up = FloatBuffer(count: T * c.ffn); a = FloatBuffer(count: T * c.ffn)
            ffnOut = FloatBuffer(count: T * d); rstdPF = FloatBuffer(count: c.sandwichNorms ? T : 0)
        }
    }
    let saved: [Saved]
    /// Recomputation: one `Saved` shared by all layers, rebuilt in the backward pass from each
    /// layer's input, kept in `residuals` (`[layers][T, hidden]`).
    public let recompute: Bool
    let residuals: [FloatBuffer]
    let xFinal, rstdF, hF: FloatBuffer
    // backward scratch
    let dX, dT, dH, dQ, dK, dV, dZ, dGate, dUp, dA, attnScratch, gather, logits: FloatBuffer
    let headRows: Int

    func savedFor(_ l: Int) -> Saved { recompute ? saved[0] : saved[l] }

    /// Float32 values one layer's saved activations take for `T` tokens.
    static func savedFloats(_ c: ModelConfig, _ T: Int) -> Int {
        let d = c.hidden
        var n = 6 * T * d + 3 * T + 2 * T * c.qDim + 2 * T * c.kvDim + c.heads * T * T + 3 * T * c.ffn
        if c.qkNorm { n += T * (c.qDim + c.kvDim + c.heads + c.kvHeads) }
        if c.sandwichNorms { n += 2 * T }
        return n
    }

    /// Bytes a workspace takes: saved activations (all layers, or one plus the layer inputs when
    /// recomputing), the backward scratch and the head's logits chunk.
    public static func bytes(config c: ModelConfig, maxTokens T: Int, headRows: Int = 256, recompute: Bool) -> Int {
        let d = c.hidden
        let saved = (recompute ? 1 : c.layers) * savedFloats(c, T) + (recompute ? c.layers * T * d : 0)
        let scratch = 3 * T * d + 3 * T * d + 2 * T * c.qDim + 2 * T * c.kvDim + 3 * T * c.ffn + T * T
            + T * max(c.ffn, c.qDim, d) + T
        return 4 * (saved + scratch + max(1, min(headRows, T)) * c.vocabularySize)
    }

    /// `recompute`: keep only each layer's input and recompute its activations in the backward
    /// pass (one extra forward pass of compute; activation memory of one layer instead of all).
    public init(config c: ModelConfig, maxTokens T: Int, headRows: Int = 256, recompute: Bool = false) {
        self.c = c
        maxTokens = T
        self.headRows = max(1, min(headRows, T))
        self.recompute = recompute
        saved = (0..<(recompute ? 1 : c.layers)).map { _ in Saved(c, T) }
        residuals = recompute ? (0..<c.layers).map { _ in FloatBuffer(count: T * c.hidden) } : []
        let d = c.hidden
        xFinal = FloatBuffer(count: T * d); rstdF = FloatBuffer(count: T); hF = FloatBuffer(count: T * d)
        dX = FloatBuffer(count: T * d); dT = FloatBuffer(count: T * d); dH = FloatBuffer(count: T * d)
        dQ = FloatBuffer(count: T * c.qDim); dK = FloatBuffer(count: T * c.kvDim); dV = FloatBuffer(count: T * c.kvDim)
        dZ = FloatBuffer(count: T * c.qDim)
        dGate = FloatBuffer(count: T * c.ffn); dUp = FloatBuffer(count: T * c.ffn); dA = FloatBuffer(count: T * c.ffn)
        attnScratch = FloatBuffer(count: T * T)
        gather = FloatBuffer(count: T * max(c.ffn, c.qDim, c.hidden))
        logits = FloatBuffer(count: headRows * c.vocabularySize)
    }
}

extension Transformer {
    /// Forward and backward of one sequence for the causal-LM loss.
    ///
    /// `targets[t]` is the token to predict at position t (−1: not predicted). Returns the summed NLL
    /// of predicted positions and their count. Gradients of `gradientScale · Σ nll` are *added* into
    /// `grads` for the trainable slices only — no full weight gradient is ever formed. With
    /// `adapters`, their low-rank updates join the forward pass and their gradients are added too.
    public func lossAndGradients(tokens: [Int32], targets: [Int32], grads: SliceBuffers, gradientScale: Float,
                                 workspace w: TrainingWorkspace, adapters ad: LoRAAdapters? = nil) throws -> (nllSum: Double, count: Int) {
        let c = config, T = tokens.count, d = c.hidden
        guard T <= w.maxTokens else { throw ModelError.sequenceTooLong(length: T, limit: w.maxTokens) }
        guard targets.count == T else { throw ModelError.invalidConfig(path: "", field: "targets", reason: "must have one entry per token") }
        if let cap = c.finalLogitSoftcap, cap > 0 {
            // Refused before any work: the backward pass has no soft-cap term.
            throw ModelError.invalidConfig(path: "", field: "final_logit_softcapping", reason: "is not supported for training (\(cap))")
        }
        let slices = grads.slices

        // ---- forward, saving what backward needs ----
        let x = w.dT.pointer // running residual (dT is free until backward)
        try embed(tokens, into: x)
        for l in 0..<c.layers {
            if w.recompute { w.residuals[l].pointer.update(from: x, count: T * d) }
            forwardLayer(l, x: x, saved: w.savedFor(l), rows: T, scratch: w.dH.pointer, adapters: ad)
        }
        w.xFinal.pointer.update(from: x, count: T * d)
        RMSNorm.forward(y: w.hF.pointer, rstd: w.rstdF.pointer, x: x, weight: weights.outputNorm.pointer, rows: T, dim: d, eps: c.rmsEpsilon)

        // ---- head and loss, in row chunks; dH = ∂loss/∂(final normed hidden) ----
        let V = c.vocabularySize
        var nllSum = 0.0, count = 0
        var r = 0
        var nllChunk = [Float](repeating: 0, count: w.headRows)
        while r < T {
            let n = min(w.headRows, T - r)
            logits(w.logits.pointer, hidden: w.hF.pointer + r * d, rows: n)
            let tg = Array(targets[r..<(r + n)])
            CrossEntropy.forward(nll: &nllChunk, logits: w.logits.pointer, targets: tg, rows: n, vocab: V, gradientScale: gradientScale)
            for i in 0..<n where tg[i] >= 0 { nllSum += Double(nllChunk[i]); count += 1 }
            // dH[rows] = dLogits · E  ([n, V] × [V, d])
            weights.head.linearTransposed(w.dH.pointer + r * d, w.logits.pointer, m: n)
            r += n
        }
        let dX = w.dX.pointer
        RMSNorm.backward(dx: dX, dy: w.dH.pointer, x: w.xFinal.pointer, weight: weights.outputNorm.pointer, rstd: w.rstdF.pointer,
                         rows: T, dim: d, accumulate: false)

        // ---- backward through the layers ----
        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let s = w.savedFor(l), lw = weights.layers[l]
            if w.recompute && l != c.layers - 1 {
                // Rebuild this block's saved activations from its input (dT and dH are free here).
                w.dT.pointer.update(from: w.residuals[l].pointer, count: T * d)
                forwardLayer(l, x: w.dT.pointer, saved: s, rows: T, scratch: w.dH.pointer, adapters: ad)
            }
            let g = grads.buffers[l]
            // FFN: x_out = xMid + post(ffnOut)
            var dOut = UnsafePointer(dX)
            if let pn = lw.postFFNNorm {
                RMSNorm.backward(dx: w.dT.pointer, dy: dX, x: s.ffnOut.pointer, weight: pn.pointer, rstd: s.rstdPF.pointer, rows: T, dim: d, accumulate: false)
                dOut = UnsafePointer(w.dT.pointer)
            }
            if let idx = slices.layers[l][.ffnDown], let gb = g[.ffnDown] {
                columnSliceGradient(gb.pointer, dY: dOut, x: s.a.pointer, rows: T, outDim: d, inDim: c.ffn, cols: idx, scratch: w.gather.pointer)
            }
            // dA = dOut · W_down  ([T, d] × [d, f])
            lw.wDown.backward(w.dA.pointer, dOut, m: T)
            ad?.backward(l, .ffnDown, dY: dOut, x: s.a.pointer, rows: T, dX: w.dA.pointer)
            c.activation.backward(dGate: w.dGate.pointer, dUp: w.dUp.pointer, dA: w.dA.pointer, gate: s.gate.pointer, up: s.up.pointer, count: T * c.ffn)
            if let idx = slices.layers[l][.ffnGate], let gb = g[.ffnGate] {
                rowSliceGradient(gb.pointer, dY: w.dGate.pointer, x: s.h2.pointer, rows: T, outDim: c.ffn, inDim: d, rowsOf: idx, scratch: w.gather.pointer)
            }
            if let idx = slices.layers[l][.ffnUp], let gb = g[.ffnUp] {
                rowSliceGradient(gb.pointer, dY: w.dUp.pointer, x: s.h2.pointer, rows: T, outDim: c.ffn, inDim: d, rowsOf: idx, scratch: w.gather.pointer)
            }
            lw.wGate.backward(w.dH.pointer, w.dGate.pointer, m: T)
            lw.wUp.backward(w.dH.pointer, w.dUp.pointer, m: T, accumulate: true)
            ad?.backward(l, .ffnGate, dY: w.dGate.pointer, x: s.h2.pointer, rows: T, dX: w.dH.pointer)
            ad?.backward(l, .ffnUp, dY: w.dUp.pointer, x: s.h2.pointer, rows: T, dX: w.dH.pointer)
            RMSNorm.backward(dx: dX, dy: w.dH.pointer, x: s.xMid.pointer, weight: lw.ffnNorm.pointer, rstd: s.rstd2.pointer, rows: T, dim: d, accumulate: true)

            // Attention: xMid = xIn + post(attnOut)
            dOut = UnsafePointer(dX)
            if let pn = lw.postAttentionNorm {
                RMSNorm.backward(dx: w.dT.pointer, dy: dX, x: s.attnOut.pointer, weight: pn.pointer, rstd: s.rstdPA.pointer, rows: T, dim: d, accumulate: false)
                dOut = UnsafePointer(w.dT.pointer)
            }
            if let idx = slices.layers[l][.attnOutput], let gb = g[.attnOutput] {
                columnSliceGradient(gb.pointer, dY: dOut, x: s.z.pointer, rows: T, outDim: d, inDim: c.qDim, cols: idx, scratch: w.gather.pointer)
            }
            lw.wo.backward(w.dZ.pointer, dOut, m: T)
            ad?.backward(l, .attnOutput, dY: dOut, x: s.z.pointer, rows: T, dX: w.dZ.pointer)
            let shape = attentionShape(layer: l, queries: T, keys: T, firstPosition: 0)
            Attention.backward(dq: w.dQ.pointer, dk: w.dK.pointer, dv: w.dV.pointer, scratch: w.attnScratch.pointer,
                               dz: w.dZ.pointer, probs: s.probs.pointer, q: s.qR.pointer, k: s.kR.pointer, v: s.v.pointer, shape: shape)
            let table = ropeTable(layer: l)
            RoPE.apply(w.dQ.pointer, rows: T, heads: c.heads, headDim: c.headDim, stride: c.qDim, firstPosition: 0, table: table, style: c.ropeStyle, inverse: true)
            RoPE.apply(w.dK.pointer, rows: T, heads: c.kvHeads, headDim: c.headDim, stride: c.kvDim, firstPosition: 0, table: table, style: c.ropeStyle, inverse: true)
            if let qn = lw.qNorm, let kn = lw.kNorm {
                // dQ/dK are w.r.t. the normed q/k; take them back through the per-head norms (in place is safe:
                // backward reads dy[i] before writing dx[i] row by row, and dx/dy are the same row).
                RMSNorm.backward(dx: w.dQ.pointer, dy: w.dQ.pointer, x: s.qPre.pointer, weight: qn.pointer, rstd: s.qRstd.pointer, rows: T * c.heads, dim: c.headDim, accumulate: false)
                RMSNorm.backward(dx: w.dK.pointer, dy: w.dK.pointer, x: s.kPre.pointer, weight: kn.pointer, rstd: s.kRstd.pointer, rows: T * c.kvHeads, dim: c.headDim, accumulate: false)
            }
            for (t, dy, out) in [(TrainableTensor.attnQ, w.dQ, c.qDim), (.attnK, w.dK, c.kvDim), (.attnV, w.dV, c.kvDim)] {
                if let idx = slices.layers[l][t], let gb = g[t] {
                    rowSliceGradient(gb.pointer, dY: dy.pointer, x: s.h1.pointer, rows: T, outDim: out, inDim: d, rowsOf: idx, scratch: w.gather.pointer)
                }
            }
            lw.wq.backward(w.dH.pointer, w.dQ.pointer, m: T)
            lw.wk.backward(w.dH.pointer, w.dK.pointer, m: T, accumulate: true)
            lw.wv.backward(w.dH.pointer, w.dV.pointer, m: T, accumulate: true)
            if let ad { for (t, dy) in [(TrainableTensor.attnQ, w.dQ), (.attnK, w.dK), (.attnV, w.dV)] { ad.backward(l, t, dY: dy.pointer, x: s.h1.pointer, rows: T, dX: w.dH.pointer) } }
            RMSNorm.backward(dx: dX, dy: w.dH.pointer, x: s.xIn.pointer, weight: lw.attnNorm.pointer, rstd: s.rstd1.pointer, rows: T, dim: d, accumulate: true)
        }
        return (nllSum, count)
    }

    /// One block's forward pass for training: `x` (`[T, hidden]`) is updated in place from the
    /// block's input to its output, and `s` receives everything the backward pass reads.
    /// `scratch` is `[T, hidden]`.
    func forwardLayer(_ l: Int, x: UnsafeMutablePointer<Float>, saved s: TrainingWorkspace.Saved, rows T: Int,
                      scratch: UnsafeMutablePointer<Float>, adapters ad: LoRAAdapters? = nil) {
        let c = config, d = c.hidden, lw = weights.layers[l]
        s.xIn.pointer.update(from: x, count: T * d)
        RMSNorm.forward(y: s.h1.pointer, rstd: s.rstd1.pointer, x: x, weight: lw.attnNorm.pointer, rows: T, dim: d, eps: c.rmsEpsilon)
        let q = s.qR.pointer, k = s.kR.pointer, v = s.v.pointer
        lw.wq.forward(q, s.h1.pointer, m: T)
        lw.wk.forward(k, s.h1.pointer, m: T)
        lw.wv.forward(v, s.h1.pointer, m: T)
        if let ad { for (t, y) in [(TrainableTensor.attnQ, q), (.attnK, k), (.attnV, v)] { ad.forward(l, t, y: y, x: s.h1.pointer, rows: T) } }
        if let b = lw.qBias { addRowBias(q, b.pointer, rows: T, dim: c.qDim) }
        if let b = lw.kBias { addRowBias(k, b.pointer, rows: T, dim: c.kvDim) }
        if let b = lw.vBias { addRowBias(v, b.pointer, rows: T, dim: c.kvDim) }
        if let qn = lw.qNorm, let kn = lw.kNorm {
            s.qPre.pointer.update(from: q, count: T * c.qDim)
            s.kPre.pointer.update(from: k, count: T * c.kvDim)
            RMSNorm.forward(y: q, rstd: s.qRstd.pointer, x: s.qPre.pointer, weight: qn.pointer, rows: T * c.heads, dim: c.headDim, eps: c.rmsEpsilon)
            RMSNorm.forward(y: k, rstd: s.kRstd.pointer, x: s.kPre.pointer, weight: kn.pointer, rows: T * c.kvHeads, dim: c.headDim, eps: c.rmsEpsilon)
        }
        let table = ropeTable(layer: l)
        RoPE.apply(q, rows: T, heads: c.heads, headDim: c.headDim, stride: c.qDim, firstPosition: 0, table: table, style: c.ropeStyle)
        RoPE.apply(k, rows: T, heads: c.kvHeads, headDim: c.headDim, stride: c.kvDim, firstPosition: 0, table: table, style: c.ropeStyle)
        let shape = attentionShape(layer: l, queries: T, keys: T, firstPosition: 0)
        Attention.forward(z: s.z.pointer, probs: s.probs.pointer, q: q, k: k, v: v, shape: shape)
        lw.wo.forward(s.attnOut.pointer, s.z.pointer, m: T)
        ad?.forward(l, .attnOutput, y: s.attnOut.pointer, x: s.z.pointer, rows: T)
        addToResidual(x, s.attnOut.pointer, postNorm: lw.postAttentionNorm, rstd: s.rstdPA.pointer, scratch: scratch, rows: T)
        s.xMid.pointer.update(from: x, count: T * d)
        RMSNorm.forward(y: s.h2.pointer, rstd: s.rstd2.pointer, x: x, weight: lw.ffnNorm.pointer, rows: T, dim: d, eps: c.rmsEpsilon)
        lw.wGate.forward(s.gate.pointer, s.h2.pointer, m: T)
        lw.wUp.forward(s.up.pointer, s.h2.pointer, m: T)
        ad?.forward(l, .ffnGate, y: s.gate.pointer, x: s.h2.pointer, rows: T)
        ad?.forward(l, .ffnUp, y: s.up.pointer, x: s.h2.pointer, rows: T)
        c.activation.forward(a: s.a.pointer, gate: s.gate.pointer, up: s.up.pointer, count: T * c.ffn)
        lw.wDown.forward(s.ffnOut.pointer, s.a.pointer, m: T)
        ad?.forward(l, .ffnDown, y: s.ffnOut.pointer, x: s.a.pointer, rows: T)
        addToResidual(x, s.ffnOut.pointer, postNorm: lw.postFFNNorm, rstd: s.rstdPF.pointer, scratch: scratch, rows: T)
    }

    /// `grad[i, :] += Σ_t dY[t, rows[i]] · X[t, :]` — the gradient of rows `rows` of W for `Y = X Wᵀ`.
    func rowSliceGradient(_ grad: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
                          rows T: Int, outDim: Int, inDim: Int, rowsOf idx: [Int], scratch: UnsafeMutablePointer<Float>) {
        let n = idx.count
        for t in 0..<T { let src = dY + t * outDim, dst = scratch + t * n; for (i, r) in idx.enumerated() { dst[i] = src[r] } }
        BLAS.gemm(transA: true, m: n, n: inDim, k: T, a: scratch, lda: n, b: x, ldb: inDim, beta: 1, c: grad, ldc: inDim)
    }

    /// `grad[i, :] += Σ_t X[t, cols[i]] · dY[t, :]` — the gradient of columns `cols` of W (stored as rows) for `Y = X Wᵀ`.
    func columnSliceGradient(_ grad: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>, x: UnsafePointer<Float>,
                             rows T: Int, outDim: Int, inDim: Int, cols idx: [Int], scratch: UnsafeMutablePointer<Float>) {
        let n = idx.count
        for t in 0..<T { let src = x + t * inDim, dst = scratch + t * n; for (i, cc) in idx.enumerated() { dst[i] = src[cc] } }
        BLAS.gemm(transA: true, m: n, n: outDim, k: T, a: scratch, lda: n, b: dY, ldb: outDim, beta: 1, c: grad, ldc: outDim)
    }
}
