import Foundation
import ModelIO
import Models

/// Formats `langneuron export` writes a delta in.
public enum AdapterFormat: String, CaseIterable {
    /// Hugging Face PEFT (`adapter_config.json` + `adapter_model.safetensors`); also vLLM with `--pad-rank`.
    case peft
    /// llama.cpp's LoRA GGUF (`--lora FILE`).
    case ggufLoRA = "gguf-lora"
    /// mlx-lm (`adapters.safetensors` + `adapter_config.json`).
    case mlx
}

/// The low-rank factors of one trained module, with ΔW = B·A exactly.
///
/// A sparse row/column delta is a LoRA update whose factors are a one-hot matrix and the delta
/// itself: for trained rows R of W `[out, in]`, B = one-hot columns `[out, r]` (B[R[k], k] = 1) and
/// A = ΔW[R] `[r, in]`; for trained columns C, B = ΔW[:, C] `[out, r]` and A = one-hot rows `[r, in]`
/// (A[k, C[k]] = 1). Every element of B·A is then one product with 1 and zeros, so it equals ΔW
/// bit for bit. Ranks past the trained count are zero rows of A and zero columns of B.
public struct LoRAFactors: Equatable {
    public let layer: Int
    public let tensor: TrainableTensor
    public let outDim: Int
    public let inDim: Int
    /// Rank written, padding included.
    public let rank: Int
    /// Rows or columns the delta trains (≤ `rank`).
    public let trainedRank: Int
    /// `[rank, inDim]`, row-major.
    public var a: [Float]
    /// `[outDim, rank]`, row-major.
    public var b: [Float]

    /// B·A, `[outDim, inDim]` row-major (for checks; the exporters never build it).
    public func product() -> [Float] {
        var w = [Float](repeating: 0, count: outDim * inDim)
        for o in 0..<outDim {
            for k in 0..<rank where b[o * rank + k] != 0 {
                let s = b[o * rank + k]
                for i in 0..<inDim { w[o * inDim + i] += s * a[k * inDim + i] }
            }
        }
        return w
    }
}

/// Turns a delta into LoRA factors in the row layout and names of a target ecosystem.
public enum AdapterExport {
    /// Factors of every tensor the delta trains, sorted by layer and tensor.
    /// `target` is the weight convention of the consumer: `.huggingFace` for PEFT and mlx-lm,
    /// `.gguf` for llama.cpp. `padRank` zero-pads every module to that rank (nil: each module
    /// keeps its trained count). Throws when a module trains more rows/columns than `padRank`.
    public static func factors(delta: DeltaFile, config c: ModelConfig, target: WeightFormat, padRank: Int?, path: String) throws -> [LoRAFactors] {
        guard !delta.entries.isEmpty else {
            throw TrainingError.adapterExport(path: path, reason: "the delta trains no tensor; there is nothing to export")
        }
        if let p = padRank, p < 1 {
            throw TrainingError.adapterExport(path: path, reason: "--pad-rank must be at least 1, got \(p)")
        }
        if let p = padRank, let worst = delta.entries.max(by: { $0.indices.count < $1.indices.count }), worst.indices.count > p {
            let n = worst.indices.count
            throw TrainingError.adapterExport(path: path, reason: "'\(worst.tensorName)' trains \(n) \(worst.tensor.isColumnSlice ? "columns" : "rows"), more than --pad-rank \(p); pass --pad-rank \(n) or larger (vLLM accepts 8, 16, 32, 64, 128, 256, 320, 512)")
        }
        var out = [LoRAFactors]()
        for e in delta.entries.sorted(by: { ($0.layer, $0.tensor) < ($1.layer, $1.tensor) }) {
            let n = e.indices.count
            let r = padRank ?? n
            let d = e.tensor.sliceLength(c)
            let units = e.tensor.unitCount(c)
            if e.tensor.isColumnSlice {
                // W [d, units]: columns are input units; the delta's slice k is column indices[k].
                var a = [Float](repeating: 0, count: r * units)
                var b = [Float](repeating: 0, count: d * r)
                for (k, col) in e.indices.enumerated() {
                    a[k * units + col] = 1
                    for o in 0..<d { b[o * r + k] = e.values[k * d + o] }
                }
                out.append(LoRAFactors(layer: e.layer, tensor: e.tensor, outDim: d, inDim: units, rank: r, trainedRank: n, a: a, b: b))
            } else {
                var a = [Float](repeating: 0, count: r * d)
                var b = [Float](repeating: 0, count: units * r)
                for (k, row) in e.indices.enumerated() {
                    let mapped = mapRow(row, tensor: e.tensor, config: c, to: target)
                    b[mapped * r + k] = 1
                    for i in 0..<d { a[k * d + i] = e.values[k * d + i] }
                }
                out.append(LoRAFactors(layer: e.layer, tensor: e.tensor, outDim: units, inDim: d, rank: r, trainedRank: n, a: a, b: b))
            }
        }
        return out
    }

    /// Whether q/k rows of this model are stored in the other convention than `target` uses.
    /// llama.cpp's convert_hf_to_gguf.py permutes the q_proj/k_proj rows of Llama-architecture
    /// models (Llama, Mistral) so that RoPE rotates adjacent pairs (`LlamaModel.permute`:
    /// `w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2)`, with
    /// n_head = the KV head count for k_proj); other architectures are converted unpermuted.
    public static func rowsArePermuted(config c: ModelConfig, target: WeightFormat) -> Bool {
        (c.architecture == .llama || c.architecture == .mistral) && c.format != target
    }

    /// The row in `target`'s layout of stored row `row` of a tensor (identity except for q/k of
    /// Llama-architecture models crossing between GGUF and Hugging Face layouts).
    public static func mapRow(_ row: Int, tensor: TrainableTensor, config c: ModelConfig, to target: WeightFormat) -> Int {
        guard tensor == .attnQ || tensor == .attnK, rowsArePermuted(config: c, target: target) else { return row }
        let hd = c.headDim, half = hd / 2
        let head = row / hd, local = row % hd
        if c.format == .gguf {
            // GGUF row h·D + 2i + s holds Hugging Face row h·D + s·D/2 + i (the swapaxes above).
            return head * hd + (local % 2) * half + local / 2
        } else {
            return head * hd + 2 * (local % half) + local / half
        }
    }

    /// The Hugging Face module name of a trainable tensor, e.g. `model.layers.3.self_attn.q_proj`.
    public static func huggingFaceModule(layer: Int, _ t: TrainableTensor, architecture: Architecture) -> String {
        String(TensorNaming.name(t.blockTensor, layer: layer, format: .huggingFace, architecture: architecture).dropLast(".weight".count))
    }

    /// The GGUF tensor name of a trainable tensor, e.g. `blk.3.attn_q.weight`.
    public static func ggufTensor(layer: Int, _ t: TrainableTensor, architecture: Architecture) -> String {
        TensorNaming.name(t.blockTensor, layer: layer, format: .gguf, architecture: architecture)
    }

    /// `general.architecture` of the GGUF file llama.cpp's converter makes from a Hugging Face
    /// checkpoint of this architecture (Mistral checkpoints become `llama`).
    public static func ggufArchitecture(_ a: Architecture) -> String {
        switch a {
        case .llama, .mistral: return "llama"
        case .qwen2: return "qwen2"
        case .qwen3: return "qwen3"
        case .gemma3: return "gemma3"
        }
    }

    /// Transposes a row-major `[rows, cols]` array.
    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var t = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = x[r * cols + c] } }
        return t
    }

    /// Writes a JSON object with sorted keys (deterministic bytes), atomically.
    static func writeJSON(_ object: [String: Any], to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try AtomicFileWriter.write(data + Data("\n".utf8), to: url)
    }

    /// Creates `dir` (and parents) or fails naming it.
    static func makeDirectory(_ dir: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            throw TrainingError.adapterExport(path: dir.path, reason: "exists and is not a directory; pass a directory for -o")
        }
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw TrainingError.adapterExport(path: dir.path, reason: "cannot create the output directory (\(error.localizedDescription))")
        }
    }
}

extension AdapterExport {
    /// What an export wrote.
    public struct Summary {
        public let files: [URL]
        public let bytes: Int
        public let modules: Int
        /// Largest rank written (padding included).
        public let rank: Int
    }

    /// Writes `delta` (already checked against the base) as an adapter in `format` at `output`: a
    /// directory for PEFT and mlx-lm, a file for llama.cpp. `ggufArchitecture` is the base GGUF's
    /// `general.architecture` (nil for a Hugging Face base: derived from the architecture).
    public static func export(delta: DeltaFile, deltaPath: String, config c: ModelConfig, format: AdapterFormat,
                              baseModelID: String, ggufArchitecture: String?, padRank: Int?, to output: URL) throws -> Summary {
        var provenance = ["langneuron_base_fingerprint": delta.baseFingerprint]
        if let l = delta.metadata["language"] { provenance["langneuron_language"] = l }
        let files: [URL]
        let factors: [LoRAFactors]
        switch format {
        case .peft:
            factors = try self.factors(delta: delta, config: c, target: .huggingFace, padRank: padRank, path: deltaPath)
            try PEFTAdapter.write(factors: factors, config: c, baseModelID: baseModelID, padded: padRank != nil,
                                  metadata: provenance, to: output)
            files = [output.appendingPathComponent(PEFTAdapter.configFile), output.appendingPathComponent(PEFTAdapter.weightsFile)]
        case .mlx:
            let maxRank = delta.entries.map(\.indices.count).max() ?? 1
            factors = try self.factors(delta: delta, config: c, target: .huggingFace, padRank: padRank ?? maxRank, path: deltaPath)
            try MLXAdapter.write(factors: factors, config: c, baseModelID: baseModelID, metadata: provenance, to: output)
            files = [output.appendingPathComponent(MLXAdapter.configFile), output.appendingPathComponent(MLXAdapter.weightsFile)]
        case .ggufLoRA:
            factors = try self.factors(delta: delta, config: c, target: .gguf, padRank: padRank, path: deltaPath)
            try GGUFLoRAAdapter.write(factors: factors, config: c, architecture: ggufArchitecture ?? self.ggufArchitecture(c.architecture),
                                      baseModelID: baseModelID,
                                      metadata: provenance.sorted { $0.key < $1.key }.map { (key: $0.key, value: GGUFValue.string($0.value)) },
                                      to: output)
            files = [output]
        }
        let bytes = files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
        return Summary(files: files, bytes: bytes, modules: factors.count, rank: factors.map(\.rank).max() ?? 0)
    }
}
