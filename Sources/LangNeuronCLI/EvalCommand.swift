import ArgumentParser
import Corpus
import Evaluation
import Foundation
import Models
import Training

/// `langneuron eval`: perplexity per language on held-out documents, with and without deltas.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Perplexity per language on held-out documents (token-weighted, 95% bootstrap interval).",
        discussion: """
        Each language reads its corpus from --corpus LANG=FILE, else the data set wiki-LANG from the data root. \
        Documents are sampled with the same seeded sampler `train` uses: with --skip-documents N and the \
        recipe's seed, they are disjoint from the N a recipe trained on. With --delta and --baseline, the \
        base model is evaluated too and the change is reported.
        """)

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(name: .customLong("delta"), help: "Delta to merge in memory (path or path:scale; repeatable).")
    var deltas: [String] = []
    @Flag(help: "Also evaluate the model without the deltas and report the change.")
    var baseline = false
    @Option(help: "Comma-separated language codes.")
    var languages = "vi,en"
    @Option(name: .customLong("corpus"), help: "LANG=FILE: the corpus for one language (repeatable).")
    var corpora: [String] = []
    @Option(help: "Documents per language.")
    var documents = 50
    @Option(help: "Skip the first N documents of the sampling order (those a recipe with `documents: N` trains on).")
    var skipDocuments = 0
    @Option(help: "Sampling seed (use the recipe's data.seed).")
    var seed: UInt64 = 1
    @Option(help: "Tokens per document (longer ones are cut).")
    var maxTokens = 512
    @Option(help: "Minimum characters of a document.")
    var minChars = 200
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        var corpusFor = [String: String]()
        for c in corpora {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--corpus takes LANG=FILE, got \(c)") }
            corpusFor[parts[0]] = parts[1]
        }
        let langs = languages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var docs = [String: [String]]()
        for lang in langs {
            let source = try resolveCorpus(corpusFor[lang] ?? "wiki-\(lang)")
            let isHeldoutFile = corpusFor[lang] != nil
            let sampler = try DocumentSampler(documents: isHeldoutFile ? 0 : skipDocuments, heldout: documents, seed: seed,
                                              minChars: minChars, language: lang)
            let split = try sampler.split(path: source.path)
            if split.heldout.count < documents {
                printError("warning: \(lang): \(source.lastPathComponent) gave \(split.heldout.count) documents, fewer than \(documents)")
            }
            docs[lang] = split.heldout.map(\.text)
        }
        let m = try loadModel(model, quiet: json)
        func evaluateAll(_ label: String) throws -> [String: PerplexityResult] {
            var out = [String: PerplexityResult]()
            let progress = ProgressLine()
            for lang in langs {
                let list = docs[lang] ?? []
                out[lang] = try Perplexity.evaluate(model: m.transformer, tokenizer: m.tokenizer, documents: list, maxTokens: maxTokens, seed: seed) { d, n in
                    if !json { progress.update("\(label) \(lang): \(d)/\(n) documents") }
                }
            }
            progress.finish()
            return out
        }
        var base: [String: PerplexityResult]?
        if baseline && !deltas.isEmpty { base = try evaluateAll("base") }
        if !deltas.isEmpty { try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: m) }
        let result = try evaluateAll(deltas.isEmpty ? "model" : "with delta")
        if json {
            var obj: [String: Any] = ["model_fingerprint": m.fingerprint, "deltas": deltas, "seed": seed, "max_tokens": maxTokens]
            func encode(_ r: [String: PerplexityResult]) throws -> Any {
                try JSONSerialization.jsonObject(with: JSONEncoder().encode(r))
            }
            obj["results"] = try encode(result)
            if let base { obj["baseline"] = try encode(base) }
            try printJSON(obj)
            return
        }
        var header = "lang   docs  tokens     ppl   95% CI"
        if base != nil { header = "lang   docs  tokens  base ppl  delta ppl   change" }
        print(header)
        for lang in langs {
            guard let r = result[lang] else { continue }
            if let b = base?[lang] {
                print(String(format: "%-5@ %5d %7d %9.3f %10.3f %+7.2f%%", lang as NSString, r.documents, r.tokens, b.ppl, r.ppl, 100 * (r.ppl - b.ppl) / b.ppl))
            } else {
                print(String(format: "%-5@ %5d %7d %7.3f   [%.3f, %.3f]", lang as NSString, r.documents, r.tokens, r.ppl, r.pplLow, r.pplHigh))
            }
        }
    }
}
