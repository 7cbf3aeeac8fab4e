import Foundation
import ModelIO
import Models

/// A delta and the factor it is added with (`DELTA:0.5`; negative to revert).
public struct ScaledDelta {
    public let path: String
    public let scale: Float

    /// Parses `path` or `path:scale`.
    public init(spec: String) throws {
        if let colon = spec.lastIndex(of: ":"), let s = Float(spec[spec.index(after: colon)...]) {
            path = String(spec[..<colon])
            scale = s
        } else {
            path = spec
            scale = 1
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError.delta(path: path, reason: "no such file")
        }
    }

    public init(path: String, scale: Float) { self.path = path; self.scale = scale }
}

public enum DeltaMerge {
    /// Applies deltas to a loaded model in memory (every command's `--delta`).
    public static func apply(_ deltas: [ScaledDelta], to model: LoadedModel, subtract: Bool = false) throws {
        for d in deltas {
            let file = try DeltaFile.read(url: URL(fileURLWithPath: d.path), config: model.config, fingerprint: model.fingerprint)
            try file.apply(to: model.transformer, fingerprint: model.fingerprint, scale: subtract ? -d.scale : d.scale, path: d.path)
        }
    }

    /// The full float32 values of every tensor the deltas touch, with the deltas added.
    public static func mergedTensors(_ deltas: [ScaledDelta], source: TensorSource, config: ModelConfig,
                                     fingerprint: String, subtract: Bool) throws -> [String: [Float]] {
        var out = [String: [Float]]()
        for d in deltas {
            let file = try DeltaFile.read(url: URL(fileURLWithPath: d.path), config: config, fingerprint: fingerprint)
            let scale = subtract ? -d.scale : d.scale
            for e in file.entries {
                if out[e.tensorName] == nil {
                    guard let shape = source.shape(of: e.tensorName) else {
                        throw TrainingError.delta(path: d.path, reason: "the base model has no tensor '\(e.tensorName)'")
                    }
                    var values = [Float](repeating: 0, count: shape.reduce(1, *))
                    try values.withUnsafeMutableBufferPointer { try source.readFloats(e.tensorName, into: $0) }
                    out[e.tensorName] = values
                }
                let dd = e.tensor.sliceLength(config)
                out[e.tensorName]!.withUnsafeMutableBufferPointer { w in
                    if e.tensor.isColumnSlice {
                        let inDim = e.tensor.unitCount(config)
                        for (i, col) in e.indices.enumerated() { for r in 0..<dd { w[r * inDim + col] += scale * e.values[i * dd + r] } }
                    } else {
                        for (i, row) in e.indices.enumerated() { for j in 0..<dd { w[row * dd + j] += scale * e.values[i * dd + j] } }
                    }
                }
            }
        }
        return out
    }
}
