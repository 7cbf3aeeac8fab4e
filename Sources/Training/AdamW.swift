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
/// performs) over trainable slices only: moments exist for those slices and nothing else.
public final class SparseAdamW {
    public let settings: OptimizerSettings
    /// Parameter values of the trainable slices (the source of truth; scattered into the model after each step).
    public let params: SliceBuffers
    public let m: SliceBuffers
    public let v: SliceBuffers
    /// Steps taken.
    public internal(set) var step = 0

    public init(settings: OptimizerSettings, slices: TrainableSlices, model: Transformer) {
        self.settings = settings
        params = SliceBuffers(slices: slices, config: model.config)
        m = SliceBuffers(slices: slices, config: model.config)
        v = SliceBuffers(slices: slices, config: model.config)
        SliceParameters.gather(model, into: params)
    }

    /// Clips `grads` to the configured global norm (over trainable slices only) and returns the
    /// norm before clipping.
    @discardableResult
    public func clip(_ grads: SliceBuffers) -> Double {
        let norm = grads.squaredNorm().squareRoot()
        if settings.clipGradNorm > 0 {
            let coef = settings.clipGradNorm / (norm + 1e-6)
            if coef < 1 {
                let k = Float(coef)
                grads.forEach { _, _, b in for i in 0..<b.count { b[i] *= k } }
            }
        }
        return norm
    }

    /// One update with learning rate `lr`, then writes the new slices into `model`.
    public func update(_ grads: SliceBuffers, lr: Double, model: Transformer) {
        step += 1
        let b1 = settings.betas[0], b2 = settings.betas[1]
        let bc1 = 1 - Foundation.pow(b1, Double(step))
        let bc2 = 1 - Foundation.pow(b2, Double(step))
        let stepSize = Float(lr / bc1)
        let invSqrtBC2 = Float(1 / bc2.squareRoot())
        let decay = Float(1 - lr * settings.weightDecay)
        let eps = Float(settings.eps)
        let fb1 = Float(b1), fb2 = Float(b2)
        params.forEach { l, t, p in
            let g = grads.buffers[l][t]!, mm = m.buffers[l][t]!, vv = v.buffers[l][t]!
            for i in 0..<p.count {
                let gi = g[i]
                let mi = fb1 * mm[i] + (1 - fb1) * gi
                let vi = fb2 * vv[i] + (1 - fb2) * gi * gi
                mm[i] = mi
                vv[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtBC2 + eps)
            }
        }
        SliceParameters.scatter(params, into: model)
    }
}
