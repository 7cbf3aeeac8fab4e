import Foundation
import Kernels
import ModelIO
import Models

/// A LoRA adapter's settings (training recipe block `lora`, and the experiment's): the rank
/// (`auto`: the rank whose trainable parameters are closest to those of the recipe's neurons on
/// the same matrices), alpha (the update is alpha/rank · B·A, as in PEFT) and the seed of A's
/// initialisation. Each key's default is its property's.
public struct LoRASettings: Codable, Equatable {
    public var rank: Rank = .auto
    public var alpha: Double = 16
    public var seed: UInt64 = 1

    /// A fixed rank, or the one matched to the neuron set's parameter count.
    public enum Rank: Equatable, Codable, CustomStringConvertible {
        case auto
        case fixed(Int)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .fixed(n); return }
            if let s = try? c.decode(String.self), s == "auto" { self = .auto; return }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "lora.rank must be 'auto' or a positive integer")
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .auto: try c.encode("auto")
            case let .fixed(n): try c.encode(n)
            }
        }

        public var description: String {
            switch self {
            case .auto: return "auto"
            case let .fixed(n): return String(n)
            }
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case rank, alpha, seed }

    public init() {}

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "lora")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&rank, .rank)
        try c.update(&alpha, .alpha)
        try c.update(&seed, .seed)
    }

    /// The first value that decoding cannot reject but training would: (field, reason), or nil.
    public func problem() -> (field: String, reason: String)? {
        if case let .fixed(n) = rank, n < 1 { return ("lora.rank", "must be 'auto' or a positive integer") }
        if !(alpha > 0) || !alpha.isFinite { return ("lora.alpha", "must be a positive number") }
        return nil
    }

    /// The rank to train: the fixed one, or the one whose parameters on `tensors` of every layer
    /// are closest to `matching` (`LoRA.rank(closestTo:perRank:)`).
    public func resolvedRank(tensors: [TrainableTensor], config: ModelConfig, matching target: Int?) -> Int? {
        switch rank {
        case let .fixed(n): return n
        case .auto:
            guard let target else { return nil }
            return LoRA.rank(closestTo: target, perRank: LoRAAdapters.parametersPerRank(tensors, config))
        }
    }
}

/// Training of LoRA adapters on whole matrices of every layer (the `lora` arm): A and B of each
/// adapted matrix are the parameters (PEFT's initialisation: A Kaiming-uniform, B zero), read by
/// the forward and backward pass directly; the stored weights are never changed. The result is a
/// PEFT adapter directory (`RUN_DIR/adapter`), in Hugging Face layout.
public final class LoRATraining: TrainingTarget {
    public let model: Transformer
    public let adapters: LoRAAdapters
    public let parameters: [ParameterTensor]
    /// Written into the adapter's `base_model_name_or_path`.
    public var baseModelID: String
    /// No sparse slices: the gradient buffers `lossAndGradients` fills for them stay empty.
    let noSlices: SliceBuffers

    /// Adapters of rank `rank` on `tensors` of every layer.
    public init(model: Transformer, tensors: [TrainableTensor], rank: Int, alpha: Float, seed: UInt64, baseModelID: String = "base") {
        self.model = model
        self.baseModelID = baseModelID
        let c = model.config
        adapters = LoRAAdapters(config: c, tensors: tensors, rank: rank, alpha: alpha, seed: seed)
        noSlices = SliceBuffers(slices: TrainableSlices(layers: c.layers), config: c)
        let naming = SliceNaming(config: c)
        var list = [ParameterTensor]()
        for l in 0..<c.layers {
            for t in adapters.tensors {
                let d = LoRAAdapters.dims(t, c), name = naming.name(layer: l, t)
                list.append(ParameterTensor(name: name + ".lora_a", shape: [rank, d.inDim], values: adapters.a[l][t]!, gradient: adapters.dA[l][t]!))
                list.append(ParameterTensor(name: name + ".lora_b", shape: [d.outDim, rank], values: adapters.b[l][t]!, gradient: adapters.dB[l][t]!))
            }
        }
        parameters = list
    }

    /// Values, moments and gradients (4 × 4 bytes per parameter).
    public var stateBytes: Int { 4 * 4 * parameterCount }

    public var summary: String {
        "\(parameterCount) parameters: LoRA rank \(adapters.rank), alpha \(String(format: "%g", adapters.alpha)) on "
            + adapters.tensors.map(\.rawValue).joined(separator: ", ") + " of every layer"
    }

    public func accumulate(tokens: [Int32], targets: [Int32], gradientScale: Float, workspace: TrainingWorkspace) throws -> Double {
        try model.lossAndGradients(tokens: tokens, targets: targets, grads: noSlices, gradientScale: gradientScale,
                                   workspace: workspace, adapters: adapters).nllSum
    }

    /// Nothing to do: the passes read A and B where the optimizer writes them.
    public func commit() {}

    /// The adapter as LoRA factors in Hugging Face layout (q/k rows of Llama-architecture GGUF
    /// bases mapped back, `AdapterExport.mapRow`).
    public func factors() -> [LoRAFactors] {
        let c = model.config, r = adapters.rank
        var out = [LoRAFactors]()
        for l in 0..<c.layers {
            for t in adapters.tensors {
                let d = LoRAAdapters.dims(t, c)
                let stored = adapters.b[l][t]!
                var b = [Float](repeating: 0, count: d.outDim * r)
                for o in 0..<d.outDim {
                    let row = AdapterExport.mapRow(o, tensor: t, config: c, to: .huggingFace)
                    for k in 0..<r { b[row * r + k] = stored[o * r + k] }
                }
                out.append(LoRAFactors(layer: l, tensor: t, outDim: d.outDim, inDim: d.inDim, rank: r, trainedRank: r,
                                       a: adapters.a[l][t]!.array, b: b))
            }
        }
        return out
    }

    public static let adapterDirectory = "adapter"

    /// `RUN_DIR/adapter`: `adapter_config.json` (r, lora_alpha, target modules) and
    /// `adapter_model.safetensors`, whose metadata records the base fingerprint and `metadata`
    /// (keys prefixed `langneuron_`).
    public func writeResult(in runDirectory: URL, baseFingerprint: String, metadata: [String: String]) throws -> URL {
        let dir = runDirectory.appendingPathComponent(Self.adapterDirectory)
        var meta = Dictionary(uniqueKeysWithValues: metadata.map { ("langneuron_" + $0.key, $0.value) })
        meta[PEFTAdapter.fingerprintKey] = baseFingerprint
        try PEFTAdapter.write(factors: factors(), config: model.config, baseModelID: baseModelID, padded: false,
                              alpha: Double(adapters.alpha), metadata: meta, to: dir)
        return dir
    }
}
