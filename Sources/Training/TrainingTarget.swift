import Foundation
import Kernels
import Models

/// One float32 tensor a training loop updates, with its gradient buffer of the same size.
public struct ParameterTensor {
    /// Key in the run's state file (`param.NAME`, `adam_m.NAME`, `adam_v.NAME`).
    public let name: String
    public let shape: [Int]
    public let values: FloatBuffer
    public let gradient: FloatBuffer

    public init(name: String, shape: [Int], values: FloatBuffer, gradient: FloatBuffer) {
        self.name = name; self.shape = shape; self.values = values; self.gradient = gradient
    }
}

/// What a `Trainer` trains, and what its run leaves behind: the trainable rows/columns of the
/// model's weights (`SliceTraining`, a sparse delta) or low-rank adapters on whole matrices
/// (`LoRATraining`, a PEFT adapter). The loop itself — data order, batches, schedule, clipping,
/// AdamW, log, checkpoints, resume, ranks — is the same for both.
public protocol TrainingTarget: AnyObject {
    /// The trained tensors and their gradients, in a fixed order (reductions, optimizer, state file).
    var parameters: [ParameterTensor] { get }
    /// Bytes the parameters, their gradients, the two AdamW moments and anything else the target
    /// keeps per parameter take (for the memory plan).
    var stateBytes: Int { get }
    /// A few words on what is trained, for the log.
    var summary: String { get }
    /// Adds the gradient of `gradientScale · Σ nll` over one sequence to the gradients; returns the summed NLL.
    func accumulate(tokens: [Int32], targets: [Int32], gradientScale: Float, workspace: TrainingWorkspace) throws -> Double
    /// Makes the model compute with the current parameter values (after an update or a loaded state).
    func commit()
    /// Writes what the run produced into `runDirectory`; returns its path.
    func writeResult(in runDirectory: URL, baseFingerprint: String, metadata: [String: String]) throws -> URL
}

extension TrainingTarget {
    /// Trained parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.values.count } }

    public func zeroGradients() { for p in parameters { p.gradient.zero() } }
}

/// Sparse training of some rows/columns of the weights (the language, random and full arms). The
/// packed slice values are the parameters (source of truth, scattered into each projection's
/// float32 delta after every update); the result is `delta.safetensors` (trained − base).
public final class SliceTraining: TrainingTarget {
    public let model: Transformer
    public let slices: TrainableSlices
    /// The slices' values before training.
    public let base: SliceBuffers
    public let values: SliceBuffers
    public let gradients: SliceBuffers
    public let parameters: [ParameterTensor]

    /// Reads the current values of `slices` from `model` (stored weight plus any delta already merged).
    public init(model: Transformer, slices: TrainableSlices) {
        self.model = model
        self.slices = slices
        let c = model.config
        let base = SliceBuffers(slices: slices, config: c), values = SliceBuffers(slices: slices, config: c)
        let gradients = SliceBuffers(slices: slices, config: c)
        SliceParameters.gather(model, into: base)
        SliceParameters.gather(model, into: values)
        let naming = SliceNaming(config: c)
        var list = [ParameterTensor]()
        values.forEach { l, t, b in
            let n = slices.indices(layer: l, t).count
            list.append(ParameterTensor(name: naming.name(layer: l, t), shape: [n, t.sliceLength(c)], values: b,
                                        gradient: gradients.buffers[l][t]!))
        }
        self.base = base; self.values = values; self.gradients = gradients
        parameters = list
    }

    /// Base, values, moments and gradients (5 × 4 bytes per parameter).
    public var stateBytes: Int { 4 * 5 * parameterCount }

    public var summary: String { "\(parameterCount) parameters in rows/columns of the weights" }

    public func accumulate(tokens: [Int32], targets: [Int32], gradientScale: Float, workspace: TrainingWorkspace) throws -> Double {
        try model.lossAndGradients(tokens: tokens, targets: targets, grads: gradients, gradientScale: gradientScale, workspace: workspace).nllSum
    }

    public func commit() { SliceParameters.scatter(values, into: model) }

    /// Puts the slices back to their values before training.
    public func restore() { SliceParameters.scatter(base, into: model) }

    public func writeResult(in runDirectory: URL, baseFingerprint: String, metadata: [String: String]) throws -> URL {
        let url = runDirectory.appendingPathComponent("delta.safetensors")
        try DeltaFile(base: base, trained: values, config: model.config, baseFingerprint: baseFingerprint, metadata: metadata).write(to: url)
        return url
    }
}
