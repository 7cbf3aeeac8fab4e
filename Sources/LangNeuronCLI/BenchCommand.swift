import ArgumentParser
import Foundation
import Kernels
import Models

/// `langneuron bench`: throughput against this machine's sgemm peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure throughput (tokens/s, GFLOP/s, fraction of sgemm peak).",
        subcommands: [Forward.self])

    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prefill throughput of a full forward pass with the output head on every token (scoring).")
        @Option(help: "Comma-separated models.") var models = "gemma3-270m,smollm2-135m"
        @Option(help: "Tokens per sequence.") var tokens = 512
        @Option(help: "Timed repeats (best is reported).") var repeats = 3
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let peak = SgemmPeak.measure(size: 1024, seconds: 1.5)
            if !json { print(String(format: "sgemm peak %.1f GFLOP/s (OpenBLAS %@, %d threads)", peak.gflops, BLAS.coreName, BLAS.threads)) }
            var rows = [[String: Any]]()
            for spec in models.split(separator: ",").map(String.init) {
                let m = try loadModel(spec, quiet: json)
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
                let gflops = flops / best / 1e9
                let row: [String: Any] = ["model": spec, "tokens": tokens, "seconds": best, "tokens_per_s": Double(tokens) / best,
                                          "gflops": gflops, "peak_gflops": peak.gflops, "fraction_of_peak": gflops / peak.gflops]
                rows.append(row)
                if !json {
                    print(String(format: "%-14@ %5d tokens  %7.1f tokens/s  %6.1f GFLOP/s  %4.0f%% of sgemm peak",
                                 spec as NSString, tokens, Double(tokens) / best, gflops, 100 * gflops / peak.gflops))
                }
            }
            if json { try printJSON(["sgemm_gflops": peak.gflops, "blas_core": BLAS.coreName, "threads": BLAS.threads, "results": rows]) }
        }
    }
}
