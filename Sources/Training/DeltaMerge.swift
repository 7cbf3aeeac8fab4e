import Foundation
import Kernels
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
    /// Applies deltas to a loaded model in memory (every command's `--delta`). A directory is a
    /// PEFT LoRA adapter (the `lora` arm's `RUN_DIR/adapter`, or an exported delta), merged densely.
    public static func apply(_ deltas: [ScaledDelta], to model: LoadedModel, subtract: Bool = false) throws {
        for d in deltas {
            let scale = subtract ? -d.scale : d.scale
            if isAdapterDirectory(d.path) {
                let adapter = try PEFTAdapter.read(directory: URL(fileURLWithPath: d.path), config: model.config, fingerprint: model.fingerprint)
                merge(adapter.modules, into: model.transformer, scale: scale)
                continue
            }
            let file = try DeltaFile.read(url: URL(fileURLWithPath: d.path), config: model.config, fingerprint: model.fingerprint)
            try file.apply(to: model.transformer, fingerprint: model.fingerprint, scale: scale, path: d.path)
        }
    }

    /// Whether `path` is a directory (taken as a PEFT adapter) rather than a delta file.
    public static func isAdapterDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Adds `scale · module.scale · B·A` of every module to the model's weights as a float32 delta
    /// over all rows (all columns for `attn_output`/`ffn_down`) of each adapted matrix — the
    /// projections' delta path the full arm's deltas take, so the stored weights are never
    /// rewritten and nothing but those deltas is allocated. B·A is formed a tile of rows (or
    /// columns) at a time; `scale` −1 takes back exactly what +1 added.
    public static func merge(_ modules: [PEFTAdapter.Module], into model: Transformer, scale: Float) {
        let tile = Scratch()
        for m in modules {
            let f = m.factors, r = f.rank
            let p = model.weights.layers[f.layer].projection(f.tensor)
            // Units are rows of W [out, in] (slice length in), or columns (slice length out).
            let columns = f.tensor.isColumnSlice
            let units = columns ? f.inDim : f.outDim, length = columns ? f.outDim : f.inDim
            let delta = p.ensureDelta(covering: Array(0..<units))
            let chunk = max(1, min(units, (1 << 18) / max(1, length)))
            f.a.withUnsafeBufferPointer { a in
                f.b.withUnsafeBufferPointer { b in
                    var u0 = 0
                    while u0 < units {
                        let n = min(chunk, units - u0), t = tile.ensure(n * length)
                        if columns {
                            // ΔW[:, u0..<u0+n]ᵀ [n, out] = A[:, u0..<u0+n]ᵀ · Bᵀ
                            BLAS.gemm(transA: true, transB: true, m: n, n: length, k: r, alpha: m.scale, a: a.baseAddress! + u0, lda: f.inDim,
                                      b: b.baseAddress!, ldb: r, c: t, ldc: length)
                        } else {
                            // ΔW[u0..<u0+n, :] [n, in] = B[u0..<u0+n, :] · A
                            BLAS.gemm(m: n, n: length, k: r, alpha: m.scale, a: b.baseAddress! + u0 * r, lda: r,
                                      b: a.baseAddress!, ldb: f.inDim, c: t, ldc: length)
                        }
                        delta.add(units: Array(u0..<(u0 + n)), values: t, scale: scale)
                        u0 += n
                    }
                }
            }
        }
    }

    /// The full float32 values of every tensor the deltas touch, with the deltas added.
    public static func mergedTensors(_ deltas: [ScaledDelta], source: TensorSource, config: ModelConfig,
                                     fingerprint: String, subtract: Bool) throws -> [String: [Float]] {
        var out = [String: [Float]]()
        for d in deltas {
            if isAdapterDirectory(d.path) {
                throw TrainingError.delta(path: d.path, reason: "it is a LoRA adapter directory; merging into a model file takes sparse deltas (score, eval and generate merge adapters in memory with --delta)")
            }
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
