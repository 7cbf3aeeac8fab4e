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

    /// `a[i] = act(gate[i]) · up[i]` for `count` elements.
    public func forward(a: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { a[i] = act(gate[i]) * up[i] }
    }

    /// Backward of `forward`: writes `dGate` and `dUp` (may alias `gate`/`up` storage only if
    /// those are no longer needed; they are read before being written element by element).
    public func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, dA: UnsafePointer<Float>,
                         gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let (av, d) = actAndDerivative(gate[i])
            let u = up[i], da = dA[i]
            dGate[i] = da * u * d
            dUp[i] = da * av
        }
    }
}
