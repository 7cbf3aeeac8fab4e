import ArgumentParser
import Foundation
import Kernels
import Models
import Training

/// `langneuron bench`: throughput against this machine's sgemm peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure throughput (tokens/s, GFLOP/s, fraction of sgemm peak).",
        subcommands: [Forward.self, Train.self, Generate.self])

    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prefill throughput of a full forward pass with the output head on every token (scoring).")
        @Option(help: "Comma-separated models.") var models = "gemma3-270m,smollm2-135m"
        @Option(help: "Tokens per sequence.") var tokens = 512
        @Option(help: "Timed repeats (best is reported).") var repeats = 3
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runBenchmark(models: models, json: json) { spec, m in
                var rng = SplitMix64(seed: 1)
                let ids = (0..<tokens).map { _ in Int32(rng.next() % UInt64(m.tokenizer.vocabularySize)) }
                _ = try m.transformer.score(ids) // warm-up: page in weights, grow buffers
                var best = Double.infinity
                for _ in 0..<max(1, repeats) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try m.transformer.score(ids)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                let flops = FlopCount.forward(m.config, tokens: tokens)
                let rss = Double(MemoryPlan.peakRSS) / 1e6, file = Double(m.transformer.weights.storedMatrixBytes) / 1e6
                return (["model": spec, "tokens": tokens, "seconds": best, "tokens_per_s": Double(tokens) / best,
                         "peak_rss_mb": rss, "stored_weight_mb": file],
                        flops / best / 1e9, String(format: "(peak RSS %.0f MB, stored weights %.0f MB)", rss, file))
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Greedy decoding throughput by batch size (how `eval` answers XQuAD and MGSM).",
            discussion: "Each sequence is a --prompt-token prompt followed by --new-tokens generated tokens; the prefill is timed separately and left out. One decoding step reads every weight matrix once, whatever the batch, so it is bound by memory bandwidth at batch 1 (weight GB/s is reported) and gets closer to the sgemm peak as the batch grows.")
        @Option(help: "Comma-separated models.") var models = "gemma3-270m,smollm2-135m"
        @Option(help: "Comma-separated batch sizes.") var batches = "1,4,8,16"
        @Option(help: "Prompt tokens per sequence.") var promptTokens = 128
        @Option(help: "Generated tokens per sequence.") var newTokens = 32
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Batch-1 products with Q4_0/Q8_0/Q4_K weights use int8 activations, as llama.cpp does (not exact; see generate --int8-activations).")
        var int8Activations = false

        func run() throws {
            WeightMatrix.int8Activations = int8Activations
            defer { WeightMatrix.int8Activations = false }
            let sizes = batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
            guard !sizes.isEmpty else { throw ValidationError("--batches needs positive integers, got '\(batches)'") }
            let bandwidth = MemoryBandwidth.measure()
            if !json {
                print(String(format: "memory bandwidth: %.1f GB/s read, %.1f GB/s copy (read + write), %d threads",
                             bandwidth.readGBs, bandwidth.copyGBs, ProcessInfo.processInfo.activeProcessorCount))
            }
            try runBenchmarkRows(models: models, json: json) { spec, m in
                try sizes.map { b in
                    var rng = SplitMix64(seed: 3)
                    let V = UInt64(m.tokenizer.vocabularySize)
                    let prompts = (0..<b).map { _ in (0..<max(1, promptTokens)).map { _ in Int32(rng.next() % V) } }
                    // Decoding time from the first generated token to the last, in one run: the
                    // callback sees every token of sequence 0 as it is appended (prefill excluded).
                    func decodeSeconds(_ steps: Int) throws -> Double {
                        var first: UInt64 = 0, last: UInt64 = 0
                        _ = try m.transformer.generateGreedy(prompts: prompts, maxTokens: steps + 1) { b, _ in
                            if b == 0 { last = DispatchTime.now().uptimeNanoseconds; if first == 0 { first = last } }
                            return false
                        }
                        return max(1e-9, Double(last - first) / 1e9)
                    }
                    _ = try decodeSeconds(1) // warm-up: page in weights, grow buffers
                    let steps = max(1, newTokens)
                    let decode = try decodeSeconds(steps)
                    var flops = 0.0
                    for i in 0..<steps { flops += Double(b) * FlopCount.decodeStep(m.config, context: promptTokens + i + 1) }
                    let weightGBs = Double(m.transformer.weights.decodeStepBytes) * Double(steps) / decode / 1e9
                    let row: [String: Any] = ["model": spec, "batch": b, "tokens": b * steps, "seconds": decode, "int8_activations": int8Activations,
                                              "tokens_per_s": Double(b * steps) / decode, "weight_gb_per_s": weightGBs,
                                              "read_bandwidth_gb_per_s": bandwidth.readGBs, "copy_bandwidth_gb_per_s": bandwidth.copyGBs,
                                              "fraction_of_read_bandwidth": weightGBs / bandwidth.readGBs,
                                              "peak_rss_mb": Double(MemoryPlan.peakRSS) / 1e6]
                    return (row, flops / decode / 1e9, String(format: "(batch %d, %.1f GB/s of stored weights = %.0f%% of the %.1f GB/s read bandwidth; peak RSS %.0f MB)",
                                                              b, weightGBs, 100 * weightGBs / bandwidth.readGBs, bandwidth.readGBs, Double(MemoryPlan.peakRSS) / 1e6))
                }
            }
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Training throughput (forward + backward + sparse AdamW) on one sequence, with a paper-sized random neuron set.",
            discussion: "The neuron set has --per-matrix units per layer in each of attn_q, attn_k, attn_v and ffn (the authors train at most 100 per matrix), training q/k/v rows, ffn_up rows and ffn_down columns.")
        @Option(help: "Comma-separated models.") var models = "gemma3-270m,smollm2-135m"
        @Option(help: "Tokens per sequence.") var tokens = 512
        @Option(help: "Neurons per matrix per layer.") var perMatrix = 100
        @Option(help: "Memory budget (auto or a size such as 8G): over it, layers are recomputed in the backward pass.") var memoryBudget = "auto"
        @Option(help: "Timed steps (best is reported).") var repeats = 3
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runBenchmark(models: models, json: json) { spec, m in
                let c = m.config
                var rng = SplitMix64(seed: 7)
                func pick(_ n: Int, of total: Int) -> [Int] {
                    var pool = Array(0..<total)
                    for i in 0..<min(n, total) { pool.swapAt(i, i + Int(rng.next() % UInt64(total - i))) }
                    return Array(pool.prefix(min(n, total))).sorted()
                }
                var slices = TrainableSlices(layers: c.layers)
                for l in 0..<c.layers {
                    slices.set(layer: l, .attnQ, pick(perMatrix, of: c.qDim))
                    slices.set(layer: l, .attnK, pick(perMatrix, of: c.kvDim))
                    slices.set(layer: l, .attnV, pick(perMatrix, of: c.kvDim))
                    let f = pick(perMatrix, of: c.ffn)
                    slices.set(layer: l, .ffnUp, f)
                    slices.set(layer: l, .ffnDown, f)
                }
                let ids = (0..<(tokens + 1)).map { _ in Int32(rng.next() % UInt64(m.tokenizer.vocabularySize)) }
                let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
                let fullBytes = TrainingWorkspace.bytes(config: c, maxTokens: tokens, recompute: false)
                let budget = MemoryPlan.parseBudget(memoryBudget) ?? MemoryPlan.available
                let ws = TrainingWorkspace(config: c, maxTokens: tokens,
                                           recompute: m.transformer.weights.storedMatrixBytes + fullBytes > budget)
                if !json {
                    printError(MemoryPlan(weights: m.transformer.weights.storedMatrixBytes,
                                          activations: TrainingWorkspace.bytes(config: c, maxTokens: tokens, recompute: ws.recompute),
                                          note: ws.recompute ? "recomputing layers in the backward pass" : "all layers saved").summary)
                }
                let target = SliceTraining(model: m.transformer, slices: slices)
                let adam = AdamW(settings: OptimizerSettings(), parameters: target.parameters)
                var best = Double.infinity
                for i in 0...max(1, repeats) { // the first step warms up
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    target.zeroGradients()
                    _ = try target.accumulate(tokens: inputs, targets: targets, gradientScale: 1 / Float(tokens), workspace: ws)
                    adam.clip()
                    adam.update(lr: 1e-6)
                    target.commit()
                    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                    if i > 0 { best = min(best, dt) }
                }
                let params = slices.parameterCount(c)
                let flops = FlopCount.trainingStep(c, tokens: tokens, trainableParameters: params)
                let full = FlopCount.fullGradientStep(c, tokens: tokens)
                let gflops = flops / best / 1e9
                let row: [String: Any] = [
                    "model": spec, "tokens": tokens, "trainable_parameters": params, "seconds": best,
                    "tokens_per_s": Double(tokens) / best, "gflop_per_step": flops / 1e9,
                    "full_gradient_gflop_per_step": full / 1e9,
                    "full_gradient_tokens_per_s_at_same_gflops": Double(tokens) / (full / (gflops * 1e9)),
                    "peak_rss_mb": Trainer.peakRSSMB(), "recompute": ws.recompute,
                ]
                let note = String(format: "(%.0f GFLOP/step sparse vs %.0f with full weight gradients: %.0f tokens/s at this rate; %d trainable parameters, peak RSS %.0f MB)",
                                  flops / 1e9, full / 1e9, Double(tokens) / (full / (gflops * 1e9)), params, Trainer.peakRSSMB())
                return (row, gflops, note)
            }
        }
    }
}

/// Runs `body` for each model and reports tokens/s, GFLOP/s and the fraction of the sgemm peak.
/// The peak is measured before and after (best of both): on a shared machine one reading can be
/// taken while something else runs. `body` returns the row's fields, its GFLOP/s, and a note.
func runBenchmark(models: String, json: Bool,
                  _ body: (String, LoadedModel) throws -> ([String: Any], Double, String)) throws {
    try runBenchmarkRows(models: models, json: json) { spec, m in [try body(spec, m)] }
}

/// `runBenchmark` with several rows per model (e.g. one per batch size).
func runBenchmarkRows(models: String, json: Bool,
                      _ body: (String, LoadedModel) throws -> [([String: Any], Double, String)]) throws {
    var peak = SgemmPeak.measure(size: 2048, seconds: 2).gflops
    var rows = [[String: Any]]()
    for spec in models.split(separator: ",").map(String.init) {
        MemoryPlan.resetPeak() // each model's own peak, not an earlier model's or the bandwidth buffers'
        let m = try loadModel(spec, quiet: json)
        for (fields, gflops, note) in try body(spec, m) {
            var row = fields
            row["gflops"] = gflops
            rows.append(row)
            if !json {
                print(String(format: "%-14@ %5d tokens  %7.1f tokens/s  %6.1f GFLOP/s  %@", spec as NSString, row["tokens"] as? Int ?? 0,
                             row["tokens_per_s"] as? Double ?? 0, gflops, note as NSString))
            }
        }
    }
    peak = max(peak, SgemmPeak.measure(size: 2048, seconds: 2).gflops)
    for i in rows.indices {
        rows[i]["peak_gflops"] = peak
        rows[i]["fraction_of_peak"] = (rows[i]["gflops"] as? Double ?? 0) / peak
    }
    if json {
        try printJSON(["sgemm_gflops": peak, "blas_core": BLAS.coreName, "threads": BLAS.threads, "results": rows])
    } else {
        print(String(format: "sgemm peak (OpenBLAS %@, %d threads, best of before and after): %.1f GFLOP/s", BLAS.coreName, BLAS.threads, peak))
        for r in rows {
            let batch = (r["batch"] as? Int).map { " batch \($0)" } ?? ""
            print(String(format: "  %-14@ %4.0f%% of peak", ((r["model"] as? String ?? "") + batch) as NSString, 100 * (r["fraction_of_peak"] as? Double ?? 0)))
        }
    }
}
