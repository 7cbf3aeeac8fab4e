import ArgumentParser
import Foundation
import Kernels
import Models

/// `langneuron info`: what a model is, and what this machine can do.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a model (architecture, sizes, quantisation, tokenizer, fingerprint) or the machine (--system).")

    @Argument(help: "Model: a default name (gemma3-270m, smollm2-135m), a GGUF file or a Hugging Face directory.")
    var model: String?
    @Option(name: .customLong("delta"), help: "Merge a delta in memory first (path or path:scale; repeatable).")
    var deltas: [String] = []

    @Flag(help: "Show the BLAS library, its kernel and threads, and measure the sgemm peak.")
    var system = false

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Compute the fingerprint (SHA-256 of the weights) if it is not cached yet; reading a large file takes seconds.")
    var fingerprint = false

    func validate() throws {
        if model == nil && !system { throw ValidationError("give a MODEL, or --system") }
    }

    func run() throws {
        var out: [String: Any] = [:]
        if system {
            let peak = SgemmPeak.measure(size: 1024, seconds: 1.5)
            let sys: [String: Any] = [
                "blas": "OpenBLAS", "blas_core": BLAS.coreName, "blas_config": BLAS.config,
                "blas_threads": BLAS.threads, "processors": BLAS.processors,
                "sgemm_gflops": (peak.gflops * 10).rounded() / 10, "sgemm_size": peak.size,
                "weight_kernels": WeightMatrix.kernelLevel.name,
                "int8_activation_kernels": WeightMatrix.hasInt8ActivationKernels,
            ]
            out["system"] = sys
            if !json {
                print("BLAS            OpenBLAS, kernel \(BLAS.coreName), \(BLAS.threads) threads (\(BLAS.processors) processors)")
                print("BLAS config     \(BLAS.config)")
                print("weight kernels  \(WeightMatrix.kernelLevel.name) (stored-type products; levels here: \(WeightMatrix.availableKernelLevels.map(\.name).joined(separator: ", ")))")
                print("int8 decoding   " + (WeightMatrix.hasInt8ActivationKernels ? "Q4_0, Q8_0, Q4_K (AVX-512 VNNI; opt-in: generate --int8-activations)" : "no (needs AVX-512 VNNI)"))
                print(String(format: "sgemm peak      %.1f GFLOP/s (float32, %d×%d×%d, best of repeated runs)", peak.gflops, peak.size, peak.size, peak.size))
            }
        }
        if let spec = model {
            let m = try loadModel(spec, deltas: deltas, quiet: json)
            let fp = fingerprint || !deltas.isEmpty ? m.fingerprint : m.fingerprintIfCheap
            let c = m.config
            let params = m.transformer.parameterCount
            let windows = Set(c.layerAttention.map(\.window)).sorted()
            let global = c.layerAttention.enumerated().filter { $0.element.window == 0 }.map(\.offset)
            let info: [String: Any] = [
                "path": m.url.path, "architecture": c.architecture.rawValue, "format": c.format.rawValue,
                "layers": c.layers, "hidden": c.hidden, "heads": c.heads, "kv_heads": c.kvHeads, "head_dim": c.headDim,
                "ffn": c.ffn, "vocab": c.vocabularySize, "parameters": params,
                "tied_embeddings": c.tiedEmbeddings, "rope_style": c.ropeStyle.rawValue,
                "sliding_windows": windows, "global_layers": global,
                "storage_types": m.storageTypes, "tokenizer": m.tokenizerKind,
                "tokenizer_vocab": m.tokenizer.vocabularySize, "fingerprint": fp ?? NSNull(),
                "stored_weight_bytes": m.transformer.weights.storedMatrixBytes,
                "neurons": ["attn_q": c.qDim * c.layers, "attn_k": c.kvDim * c.layers, "attn_v": c.kvDim * c.layers,
                            "attn_output": c.qDim * c.layers, "ffn": c.ffn * c.layers],
            ]
            out["model"] = info
            if !json {
                print("model           \(m.url.path)")
                print("architecture    \(c.architecture.rawValue) (\(c.format.rawValue)), \(c.layers) layers, hidden \(c.hidden), ffn \(c.ffn)")
                print("attention       \(c.heads) heads, \(c.kvHeads) kv heads, head dim \(c.headDim), RoPE \(c.ropeStyle.rawValue)"
                      + (windows.contains(where: { $0 > 0 }) ? ", sliding window \(windows.filter { $0 > 0 }), global layers \(global)" : ""))
                print(String(format: "parameters      %.1f M (embedding %.1f M%@)", Double(params) / 1e6,
                             Double(c.vocabularySize * c.hidden) / 1e6, c.tiedEmbeddings ? ", tied head" : ""))
                print("storage types   " + m.storageTypes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
                print("tokenizer       \(m.tokenizerKind), \(m.tokenizer.vocabularySize) tokens, BOS \(m.tokenizer.bosTokenID.map(String.init) ?? "-"), EOS \(m.tokenizer.eosTokenID.map(String.init) ?? "-")")
                print("fingerprint     \(fp ?? "not computed yet (--fingerprint computes it; any command that needs it caches it)")")
                print(String(format: "stored weights  %.1f MB, memory-mapped (decoding reads %.1f MB per token)",
                             Double(m.transformer.weights.storedMatrixBytes) / 1e6, Double(m.transformer.weights.decodeStepBytes) / 1e6))
            }
        }
        if json { try printJSON(out) }
    }
}

extension Transformer {
    /// Number of weight parameters (the head counted once when tied).
    public var parameterCount: Int {
        let c = config
        var n = c.vocabularySize * c.hidden * (c.tiedEmbeddings ? 1 : 2) + c.hidden
        for l in weights.layers { n += l.parameterCount }
        return n
    }
}
