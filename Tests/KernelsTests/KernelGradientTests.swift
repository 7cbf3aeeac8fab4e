import Foundation
import Kernels
import XCTest

/// Finite-difference checks of every backward kernel on tiny shapes. Float32 central
/// differences with eps 1e-2 on O(1) values: truncation ~1e-4, rounding ~1e-5, so analytic
/// gradients must agree within 2e-3 relative L2 (a wrong formula gives errors of order 1).
final class KernelGradientTests: XCTestCase {
    let tol = 2e-3

    func testRMSNormBackward() {
        var rng = TestRNG(1)
        let rows = 3, dim = 8
        let x = rng.array(rows * dim), w = rng.array(dim), probe = rng.array(rows * dim)
        func f(_ xs: [Float]) -> Double {
            var y = [Float](repeating: 0, count: rows * dim)
            RMSNorm.forward(y: &y, rstd: nil, x: xs, weight: w, rows: rows, dim: dim, eps: 1e-6)
            return weightedSum(y, probe)
        }
        var y = [Float](repeating: 0, count: rows * dim), rstd = [Float](repeating: 0, count: rows)
        RMSNorm.forward(y: &y, rstd: &rstd, x: x, weight: w, rows: rows, dim: dim, eps: 1e-6)
        var dx = [Float](repeating: 0, count: rows * dim)
        RMSNorm.backward(dx: &dx, dy: probe, x: x, weight: w, rstd: rstd, rows: rows, dim: dim, accumulate: false)
        XCTAssertLessThan(finiteDifferenceError(x, analytic: dx, eps: 1e-2, f), tol)
        // accumulate adds to what is there
        var dx2 = [Float](repeating: 1, count: rows * dim)
        RMSNorm.backward(dx: &dx2, dy: probe, x: x, weight: w, rstd: rstd, rows: rows, dim: dim, accumulate: true)
        for i in 0..<dx.count { XCTAssertEqual(dx2[i], dx[i] + 1, accuracy: 1e-6) }
    }

    func testRMSNormMatchesDefinition() {
        let x: [Float] = [1, 2, 3, 4], w: [Float] = [1, 1, 2, 0.5]
        var y = [Float](repeating: 0, count: 4)
        RMSNorm.forward(y: &y, rstd: nil, x: x, weight: w, rows: 1, dim: 4, eps: 0)
        let r = Float((30.0 / 4.0).squareRoot())
        for i in 0..<4 { XCTAssertEqual(y[i], x[i] / r * w[i], accuracy: 1e-6) }
    }

    func testGatedActivationBackward() {
        for kind in [GatedActivation.swiglu, .gegluTanh] {
            var rng = TestRNG(2)
            let n = 24
            let g = rng.array(n, scale: 3), u = rng.array(n), probe = rng.array(n)
            var dg = [Float](repeating: 0, count: n), du = [Float](repeating: 0, count: n)
            kind.backward(dGate: &dg, dUp: &du, dA: probe, gate: g, up: u, count: n)
            let eg = finiteDifferenceError(g, analytic: dg) { gs in
                var a = [Float](repeating: 0, count: n); kind.forward(a: &a, gate: gs, up: u, count: n); return weightedSum(a, probe)
            }
            let eu = finiteDifferenceError(u, analytic: du) { us in
                var a = [Float](repeating: 0, count: n); kind.forward(a: &a, gate: g, up: us, count: n); return weightedSum(a, probe)
            }
            XCTAssertLessThan(eg, tol, "\(kind) gate")
            XCTAssertLessThan(eu, tol, "\(kind) up")
        }
    }

    func testActivationValues() {
        // silu(1) = 1/(1+e^-1); gelu_tanh(1) = 0.5(1+tanh(sqrt(2/pi)(1.044715)))
        var a: Float = 0
        GatedActivation.swiglu.forward(a: &a, gate: [1], up: [1], count: 1)
        XCTAssertEqual(Double(a), 1 / (1 + exp(-1.0)), accuracy: 1e-6)
        GatedActivation.gegluTanh.forward(a: &a, gate: [1], up: [1], count: 1)
        XCTAssertEqual(Double(a), 0.5 * (1 + tanh((2 / Double.pi).squareRoot() * 1.044715)), accuracy: 1e-6)
    }

    func testRoPEInverseAndNorm() {
        var rng = TestRNG(3)
        for style in [RopeStyle.halves, .interleaved] {
            let rows = 5, heads = 2, hd = 8
            let x0 = rng.array(rows * heads * hd)
            var x = x0
            let table = RopeTable(headDim: hd, base: 10000)
            RoPE.apply(&x, rows: rows, heads: heads, headDim: hd, stride: heads * hd, firstPosition: 3, table: table, style: style)
            // rotations keep norms, change vectors, and the inverse undoes them
            let n0 = x0.reduce(0) { $0 + $1 * $1 }, n1 = x.reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(n0, n1, accuracy: 1e-4)
            XCTAssertGreaterThan(zip(x0, x).map { abs($0 - $1) }.max()!, 1e-2)
            RoPE.apply(&x, rows: rows, heads: heads, headDim: hd, stride: heads * hd, firstPosition: 3, table: table, style: style, inverse: true)
            for i in 0..<x.count { XCTAssertEqual(x[i], x0[i], accuracy: 1e-5) }
        }
    }

    func testRoPEPairsAndAngles() {
        // position 1, pair 0 has angle 1 rad (inv freq 1): check which components rotate together.
        let table = RopeTable(headDim: 4, base: 10000)
        var h: [Float] = [1, 0, 0, 0]
        RoPE.apply(&h, rows: 1, heads: 1, headDim: 4, stride: 4, firstPosition: 1, table: table, style: .halves)
        XCTAssertEqual(h[0], Float(cos(1.0)), accuracy: 1e-6)
        XCTAssertEqual(h[2], Float(sin(1.0)), accuracy: 1e-6)
        var i: [Float] = [1, 0, 0, 0]
        RoPE.apply(&i, rows: 1, heads: 1, headDim: 4, stride: 4, firstPosition: 1, table: table, style: .interleaved)
        XCTAssertEqual(i[1], Float(sin(1.0)), accuracy: 1e-6)
    }

    func testLlama3ScalingKeepsHighFrequencies() {
        let plain = RopeTable(headDim: 16, base: 10000)
        let scaled = RopeTable(headDim: 16, base: 10000,
                               scaling: .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32))
        // wavelength 2π < 32/4: unchanged; the lowest frequency (wavelength > 32) is divided by 8.
        XCTAssertEqual(scaled.inverseFrequencies[0], plain.inverseFrequencies[0])
        XCTAssertEqual(scaled.inverseFrequencies[7], plain.inverseFrequencies[7] / 8, accuracy: 1e-15)
    }

    func attentionCase(window: Int, heads: Int, kvHeads: Int, first: Int) {
        var rng = TestRNG(UInt64(4 + window + heads))
        let T = 5, L = first + T, hd = 4
        let s = AttentionShape(queries: T, keys: L, firstPosition: first, heads: heads, kvHeads: kvHeads, headDim: hd,
                               scale: 0.7, window: window)
        let q = rng.array(T * heads * hd), k = rng.array(L * kvHeads * hd), v = rng.array(L * kvHeads * hd)
        let probe = rng.array(T * heads * hd)
        func run(_ q: [Float], _ k: [Float], _ v: [Float]) -> (z: [Float], p: [Float]) {
            var z = [Float](repeating: 0, count: T * heads * hd), p = [Float](repeating: 0, count: heads * T * L)
            Attention.forward(z: &z, probs: &p, q: q, k: k, v: v, shape: s)
            return (z, p)
        }
        let (_, p) = run(q, k, v)
        // masked entries are exactly zero, rows sum to one
        for h in 0..<heads {
            for i in 0..<T {
                let allowed = s.allowedKeys(row: i)
                var sum: Float = 0
                for j in 0..<L {
                    let pv = p[h * T * L + i * L + j]
                    if !allowed.contains(j) { XCTAssertEqual(pv, 0) }
                    sum += pv
                }
                XCTAssertEqual(sum, 1, accuracy: 1e-5)
            }
        }
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count)
        var dv = [Float](repeating: 0, count: v.count), scratch = [Float](repeating: 0, count: T * L)
        Attention.backward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dz: probe, probs: p, q: q, k: k, v: v, shape: s)
        XCTAssertLessThan(finiteDifferenceError(q, analytic: dq) { weightedSum(run($0, k, v).z, probe) }, tol, "dq w\(window)")
        XCTAssertLessThan(finiteDifferenceError(k, analytic: dk) { weightedSum(run(q, $0, v).z, probe) }, tol, "dk w\(window)")
        XCTAssertLessThan(finiteDifferenceError(v, analytic: dv) { weightedSum(run(q, k, $0).z, probe) }, tol, "dv w\(window)")
    }

    func testAttentionBackwardCausal() { attentionCase(window: 0, heads: 2, kvHeads: 2, first: 0) }
    func testAttentionBackwardGQAWindowWithCache() { attentionCase(window: 3, heads: 4, kvHeads: 2, first: 2) }
    func testAttentionBackwardMultiQuery() { attentionCase(window: 0, heads: 3, kvHeads: 1, first: 1) }

    func testCrossEntropyValueAndGradient() {
        var rng = TestRNG(5)
        let rows = 3, vocab = 7
        let logits = rng.array(rows * vocab, scale: 3)
        let targets: [Int32] = [2, -1, 6]
        func loss(_ l: [Float]) -> Double {
            var work = l, nll = [Float](repeating: 0, count: rows)
            CrossEntropy.forward(nll: &nll, logits: &work, targets: targets, rows: rows, vocab: vocab)
            return nll.reduce(0.0) { $0 + Double($1) }
        }
        // value against a direct float64 computation
        var expected = 0.0
        for r in [0, 2] {
            let row = logits[(r * vocab)..<((r + 1) * vocab)].map(Double.init)
            expected += log(row.map { exp($0) }.reduce(0, +)) - row[Int(targets[r])]
        }
        XCTAssertEqual(loss(logits), expected, accuracy: 1e-5)
        var g = logits, nll = [Float](repeating: 0, count: rows)
        CrossEntropy.forward(nll: &nll, logits: &g, targets: targets, rows: rows, vocab: vocab, gradientScale: 1)
        XCTAssertLessThan(finiteDifferenceError(logits, analytic: g, eps: 1e-2, loss), tol)
        XCTAssertEqual(nll[1], 0)
    }

    func testGemmAgainstNaive() {
        var rng = TestRNG(6)
        let m = 3, n = 4, k = 5
        let a = rng.array(m * k), b = rng.array(k * n), w = rng.array(n * k)
        var c = [Float](repeating: 0, count: m * n), y = [Float](repeating: 0, count: m * n)
        BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        BLAS.linear(&y, a, w, m: m, n: n, k: k)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0, t: Float = 0
                for p in 0..<k { s += a[i * k + p] * b[p * n + j]; t += a[i * k + p] * w[j * k + p] }
                XCTAssertEqual(c[i * n + j], s, accuracy: 1e-5)
                XCTAssertEqual(y[i * n + j], t, accuracy: 1e-5)
            }
        }
    }

    /// Every transpose combination, few rows (the matrix-vector path) and more (sgemm), padded strides,
    /// alpha and beta, against the definition (tolerance 1e-5 on O(1) values).
    func testGemmAllShapesAgainstNaive() {
        var rng = TestRNG(9)
        let n = 4, k = 5, pad = 2
        for m in [1, 3, BLAS.gemvRows + 3] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1.5)] {
                        let aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n
                        let lda = aCols + pad, ldb = bCols + pad, ldc = n + pad
                        let a = rng.array(aRows * lda), b = rng.array(bRows * ldb)
                        let c0 = rng.array(m * ldc)
                        var c = c0
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                  beta: beta, c: &c, ldc: ldc)
                        for i in 0..<m {
                            for j in 0..<n {
                                var s: Float = 0
                                for p in 0..<k {
                                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
                                }
                                XCTAssertEqual(c[i * ldc + j], alpha * s + beta * c0[i * ldc + j], accuracy: 1e-5,
                                               "m \(m) transA \(transA) transB \(transB) beta \(beta)")
                            }
                            for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "padding untouched") }
                        }
                    }
                }
            }
        }
    }
}

final class FastMathTests: XCTestCase {
    /// The vectorised exp against libm's over the range that matters (softmax inputs ≤ 0, activations):
    /// relative error ≤ 5e-7 (a few float ulps); underflow to exactly 0 below −87.3 and for −∞.
    func testExpAccuracy() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.01 })
            let y = FastMath.exp(v)
            for j in 0..<8 {
                let ref = Foundation.exp(Double(v[j]))
                worst = max(worst, Float(abs(Double(y[j]) - ref) / ref))
            }
            x += 0.173
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(-Float.infinity), 0)
        XCTAssertEqual(FastMath.exp(-100), 0)
        XCTAssertEqual(FastMath.exp(0), 1)
    }

    func testVectorActivationMatchesScalar() {
        var rng = TestRNG(9)
        let n = 37 // not a multiple of 8: exercises the tail
        let g = rng.array(n, scale: 6), u = rng.array(n)
        for kind in [GatedActivation.swiglu, .gegluTanh] {
            var a = [Float](repeating: 0, count: n)
            kind.forward(a: &a, gate: g, up: u, count: n)
            for i in 0..<n {
                let gi = Double(g[i])
                let act = kind == .swiglu ? gi / (1 + exp(-gi))
                    : 0.5 * gi * (1 + tanh((2 / Double.pi).squareRoot() * (gi + 0.044715 * gi * gi * gi)))
                XCTAssertEqual(Double(a[i]), act * Double(u[i]), accuracy: 2e-6, "\(kind) \(i)")
            }
        }
    }
}
