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
    @Option(name: .customLong("arm"), help: "NAME=DELTA: evaluate the model with this delta as a separate arm (repeatable); the table compares every arm with the model alone.")
    var arms: [String] = []
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
        var armList = [(String, String)]()
        for a in arms {
            let p = a.split(separator: "=", maxSplits: 1).map(String.init)
            guard p.count == 2 else { throw ValidationError("--arm takes NAME=DELTA, got \(a)") }
            armList.append((p[0], p[1]))
        }
        var columns = [(String, [String: PerplexityResult])]()
        if !armList.isEmpty {
            if !deltas.isEmpty { try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: m) }
            columns.append(("base", try evaluateAll("base")))
            for (name, path) in armList {
                let d = [ScaledDelta(path: path, scale: 1)]
                try DeltaMerge.apply(d, to: m)
                columns.append((name, try evaluateAll(name)))
                try DeltaMerge.apply(d, to: m, subtract: true)
            }
        } else {
            if baseline && !deltas.isEmpty { columns.append(("base", try evaluateAll("base"))) }
            if !deltas.isEmpty { try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: m) }
            columns.append((deltas.isEmpty ? "model" : "with delta", try evaluateAll(deltas.isEmpty ? "model" : "with delta")))
        }
        if json {
            var obj: [String: Any] = ["model_fingerprint": m.fingerprint, "deltas": deltas, "seed": seed, "max_tokens": maxTokens]
            var armsObj = [String: Any]()
            for (name, r) in columns { armsObj[name] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) }
            obj["arms"] = armsObj
            try printJSON(obj)
            return
        }
        if columns.count == 1, let only = columns.first {
            print("lang   docs  tokens      ppl   95% CI")
            for lang in langs {
                guard let r = only.1[lang] else { continue }
                print(String(format: "%-5@ %5d %7d %8.3f   [%.3f, %.3f]", lang as NSString, r.documents, r.tokens, r.ppl, r.pplLow, r.pplHigh))
            }
            return
        }
        // Comparison table: every column against the first (the model alone).
        func pad(_ t: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - t.count)) + t }
        var header = "lang   docs  tokens " + pad(columns[0].0 + " ppl", 10)
        for (name, _) in columns.dropFirst() { header += " " + pad(name + " ppl", 12) + " " + pad("change", 8) }
        print(header)
        for lang in langs {
            guard let b = columns[0].1[lang] else { continue }
            var line = String(format: "%-5@ %5d %7d %10.3f", lang as NSString, b.documents, b.tokens, b.ppl)
            for (_, r) in columns.dropFirst() {
                guard let x = r[lang] else { continue }
                line += String(format: " %12.3f %+7.2f%%", x.ppl, 100 * (x.ppl - b.ppl) / b.ppl)
            }
            print(line)
        }
    }
}
