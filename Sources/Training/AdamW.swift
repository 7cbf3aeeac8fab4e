import Foundation
import Kernels
import Models

/// Optimizer settings (recipe block `optimizer`).
public struct OptimizerSettings: Codable, Equatable {
    public var lr: Double = 2e-6
    public var betas: [Double] = [0.9, 0.999]
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0
    /// Global gradient-norm clip over the trainable slices (0 = off).
    public var clipGradNorm: Double = 0.3

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case lr, betas, eps, weightDecay = "weight_decay", clipGradNorm = "clip_grad_norm"
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "optimizer")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OptimizerSettings()
        lr = try c.decodeIfPresent(Double.self, forKey: .lr) ?? d.lr
        betas = try c.decodeIfPresent([Double].self, forKey: .betas) ?? d.betas
        eps = try c.decodeIfPresent(Double.self, forKey: .eps) ?? d.eps
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
        clipGradNorm = try c.decodeIfPresent(Double.self, forKey: .clipGradNorm) ?? d.clipGradNorm
    }
}

/// AdamW (decoupled weight decay, bias-corrected moments — the update PyTorch's `torch.optim.AdamW`
/// performs) over the parameters of a `TrainingTarget` only: moments exist for those tensors and
/// nothing else (the trainable slices of the weights, or LoRA factors).
public final class AdamW {
    public let settings: OptimizerSettings
    /// The tensors updated, in their fixed order.
    public let parameters: [ParameterTensor]
    /// First and second moments, one buffer per parameter tensor.
    public let m: [FloatBuffer]
    public let v: [FloatBuffer]
    /// Steps taken.
    public internal(set) var step = 0

    public init(settings: OptimizerSettings, parameters: [ParameterTensor]) {
        self.settings = settings
        self.parameters = parameters
        m = parameters.map { FloatBuffer(count: $0.values.count) }
        v = parameters.map { FloatBuffer(count: $0.values.count) }
    }

    /// Sum of squares of every gradient, accumulated in Double in the tensors' order.
    public func gradientSquaredNorm() -> Double {
        var s = 0.0
        for p in parameters { let g = p.gradient; for i in 0..<g.count { s += Double(g[i]) * Double(g[i]) } }
        return s
    }

    /// Clips the gradients to the configured global norm (over the trained tensors only) and
    /// returns the norm before clipping.
    @discardableResult
    public func clip() -> Double {
        let norm = gradientSquaredNorm().squareRoot()
        if settings.clipGradNorm > 0 {
            let coef = settings.clipGradNorm / (norm + 1e-6)
            if coef < 1 {
                let k = Float(coef)
                for p in parameters { let g = p.gradient; for i in 0..<g.count { g[i] *= k } }
            }
        }
        return norm
    }

    /// One update of every parameter tensor from its gradient, with learning rate `lr`. The caller
    /// makes the model use the new values (`TrainingTarget.commit`).
    public func update(lr: Double) {
        step += 1
        let b1 = settings.betas[0], b2 = settings.betas[1]
        let bc1 = 1 - Foundation.pow(b1, Double(step))
        let bc2 = 1 - Foundation.pow(b2, Double(step))
        let stepSize = Float(lr / bc1)
        let invSqrtBC2 = Float(1 / bc2.squareRoot())
        let decay = Float(1 - lr * settings.weightDecay)
        let eps = Float(settings.eps)
        let fb1 = Float(b1), fb2 = Float(b2)
        for (k, t) in parameters.enumerated() {
            let p = t.values, g = t.gradient, mm = m[k], vv = v[k]
            for i in 0..<p.count {
                let gi = g[i]
                let mi = fb1 * mm[i] + (1 - fb1) * gi
                let vi = fb2 * vv[i] + (1 - fb2) * gi * gi
                mm[i] = mi
                vv[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtBC2 + eps)
            }
        }
    }
}
