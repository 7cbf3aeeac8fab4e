import ArgumentParser
import Foundation
import Models

/// `langneuron score`: per-token negative log-likelihood and perplexity of a text.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "score", abstract: "Per-token NLL, mean NLL and perplexity of a text.")

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(name: .customLong("delta"), help: "Merge a delta in memory first (path or path:scale; repeatable).")
    var deltas: [String] = []
    @Option(help: "The UTF-8 text file to score.")
    var textFile: String
    @Option(help: "Tokens per prefill chunk (results do not depend on it).")
    var chunk = 512
    @Flag(help: "Print {\"ids\", \"nll\", \"mean_nll\", \"perplexity\"}; nll[i] is the NLL of token i+1.")
    var json = false

    func run() throws {
        let text = try readTextFile(textFile)
        let m = try loadModel(model, deltas: deltas, quiet: json)
        let ids = m.tokenizer.encode(text, addSpecialTokens: true)
        guard ids.count >= 2 else { throw CLIError.badInput("\(textFile): needs at least 2 tokens to score, has \(ids.count)") }
        let t0 = Date()
        let s = try m.transformer.score(ids, chunk: max(1, chunk))
        let dt = Date().timeIntervalSince(t0)
        if json {
            try printJSON(["ids": ids.map(Int.init), "nll": s.nll.map(Double.init), "mean_nll": s.meanNLL, "perplexity": s.perplexity,
                           "tokens": ids.count, "seconds": dt, "model_fingerprint": m.fingerprint])
        } else {
            print(String(format: "tokens      %d (%d predicted)", ids.count, s.nll.count))
            print(String(format: "mean NLL    %.4f nats/token", s.meanNLL))
            print(String(format: "perplexity  %.3f", s.perplexity))
            print(String(format: "speed       %.0f tokens/s (%.2f s)", Double(ids.count) / dt, dt))
        }
    }
}
