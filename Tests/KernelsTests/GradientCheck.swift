import Foundation
import XCTest

/// Deterministic pseudo-random numbers for tests (SplitMix64).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
    mutating func array(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in uniform() * scale } }
}

/// Central finite differences of a scalar function, compared with an analytic gradient by
/// relative L2 error `‖g − g_fd‖ / ‖g_fd‖`.
func finiteDifferenceError(_ x: [Float], analytic: [Float], eps: Float = 1e-2, _ f: ([Float]) -> Double) -> Double {
    var num = 0.0, den = 0.0
    var xp = x
    for i in 0..<x.count {
        let orig = xp[i]
        xp[i] = orig + eps
        let fp = f(xp)
        xp[i] = orig - eps
        let fm = f(xp)
        xp[i] = orig
        let g = (fp - fm) / (2 * Double(eps))
        num += (Double(analytic[i]) - g) * (Double(analytic[i]) - g)
        den += g * g
    }
    return (num / max(den, 1e-30)).squareRoot()
}

func weightedSum(_ y: [Float], _ w: [Float]) -> Double {
    zip(y, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
