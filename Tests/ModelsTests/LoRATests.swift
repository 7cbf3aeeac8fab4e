import Foundation
import Kernels
@testable import Models
import XCTest

/// LoRA's forward and backward against a float64 dense reference (W_eff = scale · B · A) and
/// against finite differences of the float32 forward.
final class LoRATests: XCTestCase {
    struct Case {
        let s: LoRAShape, T: Int
        var x: [Float], a: [Float], b: [Float], g: [Float]
    }

    func makeCase(T: Int = 5, inDim: Int = 7, outDim: Int = 6, rank: Int = 3, alpha: Float = 4, seed: UInt64 = 3) -> Case {
        var rng = seed
        func next() -> Float {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int((rng >> 33) % 2001) - 1000) / 1000
        }
        let s = LoRAShape(inDim: inDim, outDim: outDim, rank: rank, alpha: alpha)
        return Case(s: s, T: T, x: (0..<(T * inDim)).map { _ in next() }, a: (0..<(rank * inDim)).map { _ in next() },
                    b: (0..<(outDim * rank)).map { _ in next() }, g: (0..<(T * outDim)).map { _ in next() })
    }

    /// Y = scale · X (B A)ᵀ in float64.
    func referenceY(_ c: Case) -> [Double] {
        let s = c.s
        var y = [Double](repeating: 0, count: c.T * s.outDim)
        for t in 0..<c.T { for o in 0..<s.outDim {
            var acc = 0.0
            for i in 0..<s.inDim {
                var w = 0.0
                for r in 0..<s.rank { w += Double(c.b[o * s.rank + r]) * Double(c.a[r * s.inDim + i]) }
                acc += Double(c.x[t * s.inDim + i]) * w
            }
            y[t * s.outDim + o] = Double(s.scale) * acc
        } }
        return y
    }

    func forward(_ c: Case) -> [Float] {
        var y = [Float](repeating: 0, count: c.T * c.s.outDim), xa = [Float](repeating: 0, count: c.T * c.s.rank)
        LoRA.forward(c.s, y: &y, x: c.x, rows: c.T, a: c.a, b: c.b, xa: &xa)
        return y
    }

    func backward(_ c: Case) -> (dA: [Float], dB: [Float], dX: [Float]) {
        var y = [Float](repeating: 0, count: c.T * c.s.outDim), xa = [Float](repeating: 0, count: c.T * c.s.rank)
        LoRA.forward(c.s, y: &y, x: c.x, rows: c.T, a: c.a, b: c.b, xa: &xa)
        var dA = [Float](repeating: 0, count: c.a.count), dB = [Float](repeating: 0, count: c.b.count)
        var dX = [Float](repeating: 0, count: c.x.count), scratch = [Float](repeating: 0, count: c.T * c.s.rank)
        LoRA.backward(c.s, dY: c.g, x: c.x, xa: xa, rows: c.T, a: c.a, b: c.b, dA: &dA, dB: &dB, dX: &dX, scratch: &scratch)
        return (dA, dB, dX)
    }

    /// L = Σ Y ⊙ G in float64 from the reference forward.
    func referenceLoss(_ c: Case) -> Double { zip(referenceY(c), c.g).reduce(0) { $0 + $1.0 * Double($1.1) } }

    func testForwardMatchesDenseFloat64() {
        for (T, r) in [(5, 3), (1, 1), (9, 4)] {
            let c = makeCase(T: T, rank: r)
            let y = forward(c), ref = referenceY(c)
            for (u, v) in zip(y, ref) { XCTAssertEqual(Double(u), v, accuracy: 1e-5 * max(1, abs(v))) } // float32 rounding
        }
    }

    /// Analytic gradients against central differences of the float64 reference loss (which is
    /// linear in each single entry, so the difference is exact up to rounding), tolerance 1e-4.
    func testGradientsMatchFiniteDifferences() {
        let c = makeCase()
        let (dA, dB, dX) = backward(c)
        let h: Float = 1e-2
        func check(_ grad: [Float], _ perturb: (inout Case, Int, Float) -> Void, _ name: String) {
            for i in 0..<grad.count {
                var p = c, m = c
                perturb(&p, i, h); perturb(&m, i, -h)
                let fd = (referenceLoss(p) - referenceLoss(m)) / (2 * Double(h))
                XCTAssertEqual(Double(grad[i]), fd, accuracy: 1e-4 * max(1, abs(fd)), "\(name)[\(i)]")
            }
        }
        check(dA, { $0.a[$1] += $2 }, "dA")
        check(dB, { $0.b[$1] += $2 }, "dB")
        check(dX, { $0.x[$1] += $2 }, "dX")
    }

    /// The float32 forward itself, differentiated numerically (h = 1e-2; float32 noise: tolerance 2e-3 + 1%).
    func testGradientsMatchFiniteDifferencesOfTheKernel() {
        let c = makeCase(T: 4, inDim: 5, outDim: 4, rank: 2, alpha: 2)
        let (dA, _, _) = backward(c)
        for i in 0..<dA.count {
            var p = c, m = c
            p.a[i] += 1e-2; m.a[i] -= 1e-2
            let lp = zip(forward(p), c.g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let lm = zip(forward(m), c.g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let fd = (lp - lm) / 2e-2
            XCTAssertEqual(Double(dA[i]), fd, accuracy: 2e-3 + 1e-2 * abs(fd), "dA[\(i)]")
        }
    }

    func testMergeEqualsTheAdapterInTheForward() {
        let c = makeCase()
        var w = [Float](repeating: 0, count: c.s.outDim * c.s.inDim)
        LoRA.merge(c.s, into: &w, a: c.a, b: c.b)
        var y = [Float](repeating: 0, count: c.T * c.s.outDim)
        BLAS.linear(&y, c.x, w, m: c.T, n: c.s.outDim, k: c.s.inDim)
        for (u, v) in zip(y, referenceY(c)) { XCTAssertEqual(Double(u), v, accuracy: 1e-5 * max(1, abs(v))) }
        LoRA.merge(c.s, into: &w, a: c.a, b: c.b, subtract: true)
        XCTAssertLessThan(w.map(abs).max()!, 1e-6, "subtracting restores the weight (to float32 rounding)")
    }

    /// PEFT: A ~ U(−1/√in, 1/√in) (Kaiming-uniform, a = √5), B = 0; deterministic by seed.
    func testInitialisationIsPEFTs() {
        let s = LoRAShape(inDim: 640, outDim: 1024, rank: 8, alpha: 16)
        var a = [Float](repeating: 0, count: s.rank * s.inDim), b = [Float](repeating: 1, count: s.outDim * s.rank)
        LoRA.initialise(s, a: &a, b: &b, seed: 1)
        let bound = Float(1 / (640.0).squareRoot())
        XCTAssertLessThanOrEqual(a.map(abs).max()!, bound)
        XCTAssertGreaterThan(a.map(abs).max()!, 0.95 * bound, "the whole range is used")
        let variance = a.reduce(0.0) { $0 + Double($1 * $1) } / Double(a.count)
        XCTAssertEqual(variance, Double(bound * bound) / 3, accuracy: 0.05 * Double(bound * bound) / 3) // U(−b, b): b²/3
        XCTAssertTrue(b.allSatisfy { $0 == 0 })
        var a2 = a
        LoRA.initialise(s, a: &a2, b: &b, seed: 1)
        XCTAssertEqual(a, a2)
        LoRA.initialise(s, a: &a2, b: &b, seed: 2)
        XCTAssertNotEqual(a, a2)
        XCTAssertEqual(s.parameterCount, 8 * (640 + 1024))
    }

    func testRankClosestToABudget() {
        XCTAssertEqual(LoRA.rank(closestTo: 1000, perRank: 300), 3) // 900 vs 1200
        XCTAssertEqual(LoRA.rank(closestTo: 1100, perRank: 300), 4) // 1200 is closer than 900
        XCTAssertEqual(LoRA.rank(closestTo: 10, perRank: 300), 1, "at least rank 1")
        XCTAssertEqual(LoRA.rank(closestTo: 450, perRank: 300), 1, "a tie goes to the smaller rank")
    }
}
