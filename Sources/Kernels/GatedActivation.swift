import Foundation

/// The gated feed-forward activations: `a = act(gate) ⊙ up`.
public enum GatedActivation: String, Codable {
    /// SiLU (Llama, Mistral, Qwen).
    case swiglu
    /// GELU with the tanh approximation (Gemma 3's `gelu_pytorch_tanh`).
    case gegluTanh

    @inline(__always)
    func act(_ g: Float) -> Float {
        switch self {
        case .swiglu:
            return g / (1 + Foundation.exp(-g))
        case .gegluTanh:
            let k: Float = 0.7978845608028654 // sqrt(2/pi)
            return 0.5 * g * (1 + Foundation.tanh(k * (g + 0.044715 * g * g * g)))
        }
    }

    /// Returns (act(g), act'(g)).
    @inline(__always)
    func actAndDerivative(_ g: Float) -> (Float, Float) {
        switch self {
        case .swiglu:
            let s = 1 / (1 + Foundation.exp(-g))
            return (g * s, s * (1 + g * (1 - s)))
        case .gegluTanh:
            let k: Float = 0.7978845608028654
            let inner = k * (g + 0.044715 * g * g * g)
            let t = Foundation.tanh(inner)
            let d = 0.5 * (1 + t) + 0.5 * g * (1 - t * t) * k * (1 + 3 * 0.044715 * g * g)
            return (0.5 * g * (1 + t), d)
        }
    }

    /// `a[i] = act(gate[i]) · up[i]` for `count` elements (vectorised; `a` may alias `gate`).
    public func forward(a: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let rg = UnsafeRawPointer(gate), ru = UnsafeRawPointer(up), ra = UnsafeMutableRawPointer(a)
        var i = 0
        while i + 8 <= count {
            let g = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let u = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let v: SIMD8<Float>
            switch self {
            case .swiglu:
                v = g / (1 + FastMath.exp(-g)) * u
            case .gegluTanh:
                // tanh(y) = 1 − 2 / (e^{2y} + 1)
                let y = 0.7978845608028654 * (g + 0.044715 * g * g * g)
                let t = 1 - 2 / (FastMath.exp(2 * y) + 1)
                v = 0.5 * g * (1 + t) * u
            }
            ra.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { a[i] = act(gate[i]) * up[i]; i += 1 }
    }

    /// Backward of `forward`: writes `dGate` and `dUp` (may alias `gate`/`up` storage only if
    /// those are no longer needed; they are read before being written element by element).
    public func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dA: UnsafePointer<Float>,
                         gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let rg = UnsafeRawPointer(gate), ru = UnsafeRawPointer(up), rd = UnsafeRawPointer(dA)
        let wg = UnsafeMutableRawPointer(dGate), wu = UnsafeMutableRawPointer(dUp)
        var i = 0
        while i + 8 <= count {
            let g = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let u = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let da = rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let av: SIMD8<Float>, d: SIMD8<Float>
            switch self {
            case .swiglu:
                let sg = 1 / (1 + FastMath.exp(-g))
                av = g * sg
                d = sg * (1 + g * (1 - sg))
            case .gegluTanh:
                let k: Float = 0.7978845608028654
                let g2: SIMD8<Float> = g * g
                let inner: SIMD8<Float> = (2 * k) * (g + 0.044715 * g2 * g)
                let t: SIMD8<Float> = 1 - 2 / (FastMath.exp(inner) + 1)
                let half: SIMD8<Float> = 0.5 * (1 + t)
                av = half * g
                let slope: SIMD8<Float> = k * (1 + 0.134145 * g2)
                d = half + 0.5 * g * (1 - t * t) * slope
            }
            wg.storeBytes(of: da * u * d, toByteOffset: i * 4, as: SIMD8<Float>.self)
            wu.storeBytes(of: da * av, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let (av, d) = actAndDerivative(gate[i])
            let u = up[i], da = dA[i]
            dGate[i] = da * u * d
            dUp[i] = da * av
            i += 1
        }
    }
}
