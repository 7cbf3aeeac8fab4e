import ArgumentParser
import Corpus
import Evaluation
import Foundation
import Models
import Store
import Training

/// `langneuron eval`: perplexity and benchmarks per language, for the model and for delta arms.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Perplexity (token-weighted, 95% bootstrap interval), XQuAD and MGSM per language, with and without deltas.",
        discussion: """
        Perplexity reads each language's corpus from --corpus LANG=FILE, else the data set wiki-LANG. Documents \
        are sampled with the same seeded sampler `train` uses: with --skip-documents N and the recipe's seed they \
        are disjoint from the N a recipe trained on. XQuAD (extractive QA, SQuAD exact match and F1; character F1 \
        for zh/ja/th) and MGSM (accuracy on the first number of the answer) use greedy generation with a fixed \
        few-shot prompt in the target language whose exemplars are the file's first items, never scored; questions \
        are decoded --batch-size at a time, with the exemplars' (and a shared paragraph's) keys and values computed once. \
        --arm NAME=DELTA evaluates each delta separately and compares it with the model alone.
        """)

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(name: .customLong("delta"), help: "Delta to merge in memory (path or path:scale; repeatable).")
    var deltas: [String] = []
    @Flag(help: "Also evaluate the model without the deltas and report the change.")
    var baseline = false
    @Option(name: .customLong("arm"), help: "NAME=DELTA: evaluate the model with this delta as a separate arm (repeatable).")
    var arms: [String] = []
    @Option(help: "Comma-separated tasks: ppl, xquad, mgsm.")
    var tasks = "ppl"
    @Option(help: "Comma-separated language codes.")
    var languages = "vi,en"
    @Option(help: "Comma-separated languages for xquad and mgsm (default: --languages).")
    var benchmarkLanguages: String?
    @Option(name: .customLong("corpus"), help: "LANG=FILE: the perplexity corpus for one language (repeatable).")
    var corpora: [String] = []
    @Option(help: "Documents per language (perplexity).")
    var documents = 50
    @Option(help: "Questions per language and task (XQuAD, MGSM).")
    var limit = 20
    @Option(help: "Questions decoded together (XQuAD, MGSM); the answers do not depend on it.")
    var batchSize = 16
    @Option(help: "Skip the first N documents of the sampling order (those a recipe with `documents: N` trains on).")
    var skipDocuments = 0
    @Option(help: "Sampling seed (use the recipe's data.seed).")
    var seed: UInt64 = 1
    @Option(help: "Tokens per document (longer ones are cut).")
    var maxTokens = 512
    @Option(help: "Minimum characters of a document.")
    var minChars = 200
    @Flag(help: "Print JSON: {arms: {NAME: {LANG: {ppl, tokens, xquad_em, xquad_f1, mgsm_acc, …}}}}.")
    var json = false

    /// One arm's metrics by language (`ppl`, `tokens`, `xquad_em`, `xquad_f1`, `mgsm_acc`, …).
    typealias ArmMetrics = [String: [String: Double]]

    func run() throws {
        let (columns, fingerprint) = try evaluate()
        if json {
            var armsObj = [String: Any]()
            for (name, r) in columns { armsObj[name] = r }
            try printJSON(["model_fingerprint": fingerprint, "deltas": deltas, "seed": seed, "max_tokens": maxTokens,
                           "tasks": tasks.split(separator: ",").map(String.init).sorted(), "limit": limit, "arms": armsObj])
            return
        }
        printTable(columns: columns, langs: languages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    }

    /// Evaluates every arm; returns the columns in order (the model alone first when arms are given)
    /// and the base model's fingerprint.
    func evaluate() throws -> (columns: [(String, ArmMetrics)], fingerprint: String) {
        try checkInputs()
        let taskSet = self.taskSet, corpusFor = try self.corpusFor(), langs = languageList(languages)
        let benchLangs = Set(benchmarkLanguages.map(languageList) ?? langs)

        // Inputs, read once for every arm.
        var docs = [String: [String]]()
        var xquad = [String: [QAItem]]()
        var mgsm = [String: [(question: String, answer: Double)]]()
        for lang in langs {
            if taskSet.contains("ppl") {
                let source = try resolveCorpus(corpusFor[lang] ?? "wiki-\(lang)")
                let isGivenFile = corpusFor[lang] != nil
                let sampler = try DocumentSampler(documents: isGivenFile ? 0 : skipDocuments, heldout: documents, seed: seed,
                                                  minChars: minChars, language: lang)
                let split = try sampler.split(path: source.path)
                if split.heldout.count < documents {
                    printError("warning: \(lang): \(source.lastPathComponent) gave \(split.heldout.count) documents, fewer than \(documents)")
                }
                docs[lang] = split.heldout.map(\.text)
            }
            if taskSet.contains("xquad") && benchLangs.contains(lang) {
                xquad[lang] = try Benchmarks.loadXQuAD(url: benchmarkFile("xquad", "xquad.\(lang).json", lang))
            }
            if taskSet.contains("mgsm") && benchLangs.contains(lang) {
                mgsm[lang] = try Benchmarks.loadMGSM(url: benchmarkFile("mgsm", "mgsm_\(lang).tsv", lang))
            }
        }
        let m = try loadModel(model, quiet: json)

        /// Each language's perplexity of the base column, for the paired intervals of the others.
        var basePerplexity = [String: PerplexityResult]()
        /// One arm's metrics: language → metric name → value. With `isBase` its perplexities are kept;
        /// otherwise the change against them gets its paired interval (`ppl_change`, `_low`, `_high`, %).
        func evaluateAll(_ label: String, isBase: Bool = false) throws -> [String: [String: Double]] {
            var out = [String: [String: Double]]()
            let progress = ProgressLine()
            var phaseStart = Date()
            var phase = ""
            /// "label lang task: d/n unit, ETA …" (the ETA from the pace of this language and task).
            func report(_ what: String, _ d: Int, _ n: Int, _ unit: String) {
                if what != phase { phase = what; phaseStart = Date() }
                let eta = Date().timeIntervalSince(phaseStart) / Double(max(d, 1)) * Double(n - d)
                if !json { progress.update("\(label) \(what): \(d)/\(n) \(unit), ETA \(formatDuration(eta))") }
            }
            for lang in langs {
                var r = [String: Double]()
                if let list = docs[lang] {
                    let p = try Perplexity.evaluate(model: m.transformer, tokenizer: m.tokenizer, documents: list, maxTokens: maxTokens, seed: seed) { d, n in
                        report("\(lang) ppl", d, n, "documents")
                    }
                    r["ppl"] = p.ppl; r["ppl_low"] = p.pplLow; r["ppl_high"] = p.pplHigh
                    r["tokens"] = Double(p.tokens); r["documents"] = Double(p.documents)
                    if isBase { basePerplexity[lang] = p } else if let b = basePerplexity[lang], let c = Perplexity.pairedChange(p, base: b, seed: seed) {
                        r["ppl_change"] = c.change; r["ppl_change_low"] = c.low; r["ppl_change_high"] = c.high
                    }
                }
                if let items = xquad[lang] {
                    let t = try Benchmarks.runXQuAD(model: m.transformer, tokenizer: m.tokenizer, items: items, language: lang, limit: limit, batchSize: max(1, batchSize)) { d, n in
                        report("\(lang) xquad", d, n, "questions")
                    }
                    r["xquad_em"] = t.accuracy; r["xquad_f1"] = t.f1 ?? 0; r["xquad_n"] = Double(t.n)
                }
                if let rows = mgsm[lang] {
                    let t = try Benchmarks.runMGSM(model: m.transformer, tokenizer: m.tokenizer, rows: rows, language: lang, limit: limit, batchSize: max(1, batchSize)) { d, n in
                        report("\(lang) mgsm", d, n, "problems")
                    }
                    r["mgsm_acc"] = t.accuracy; r["mgsm_n"] = Double(t.n)
                }
                out[lang] = r
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
        var columns = [(String, [String: [String: Double]])]()
        if !armList.isEmpty {
            if !deltas.isEmpty { try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: m) }
            columns.append(("base", try evaluateAll("base", isBase: true)))
            for (name, path) in armList {
                let d = [ScaledDelta(path: path, scale: 1)]
                try DeltaMerge.apply(d, to: m)
                columns.append((name, try evaluateAll(name)))
                try DeltaMerge.apply(d, to: m, subtract: true)
            }
        } else {
            if baseline && !deltas.isEmpty { columns.append(("base", try evaluateAll("base", isBase: true))) }
            if !deltas.isEmpty { try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: m) }
            let label = deltas.isEmpty ? "model" : "with delta"
            columns.append((label, try evaluateAll(label)))
        }

        return (columns, m.fingerprint)
    }

    var taskSet: Set<String> { Set(languageList(tasks)) }

    func languageList(_ s: String) -> [String] {
        s.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func corpusFor() throws -> [String: String] {
        var out = [String: String]()
        for c in corpora {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--corpus takes LANG=FILE, got \(c)") }
            out[parts[0]] = parts[1]
        }
        return out
    }

    /// Checks, without loading anything, that every task is known and every corpus and benchmark
    /// file exists (except the corpora of `notYetWritten` languages, which another step will write).
    func checkInputs(notYetWritten: Set<String> = []) throws {
        for t in taskSet where !["ppl", "xquad", "mgsm"].contains(t) {
            throw ValidationError("unknown task '\(t)' (tasks: ppl, xquad, mgsm)")
        }
        let corpusFor = try corpusFor(), langs = languageList(languages)
        let benchLangs = benchmarkLanguages.map(languageList) ?? langs
        for lang in benchLangs where !langs.contains(lang) {
            throw ValidationError("benchmark language '\(lang)' is not among the languages (\(langs.joined(separator: ",")))")
        }
        if taskSet.contains("ppl") {
            for lang in langs where !(corpusFor[lang] != nil && notYetWritten.contains(lang)) {
                _ = try resolveCorpus(corpusFor[lang] ?? "wiki-\(lang)")
            }
        }
        for lang in benchLangs {
            if taskSet.contains("xquad") { _ = try benchmarkFile("xquad", "xquad.\(lang).json", lang) }
            if taskSet.contains("mgsm") { _ = try benchmarkFile("mgsm", "mgsm_\(lang).tsv", lang) }
        }
    }

    func benchmarkFile(_ dataset: String, _ file: String, _ lang: String) throws -> URL {
        do { return try DataRoot.path(forDataset: dataset, file: file) } catch {
            throw CLIError.badInput("\(dataset) has no file for '\(lang)' (\(error.localizedDescription)); "
                                    + "leave \(lang) out of the benchmark languages (--benchmark-languages, or benchmark_languages in an experiment recipe)")
        }
    }

    /// Rows: language × metric; columns: arms, with the change against the first column.
    func printTable(columns: [(String, [String: [String: Double]])], langs: [String]) {
        func pad(_ t: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - t.count)) + t }
        let metrics: [(key: String, label: String, percent: Bool)] = [("ppl", "ppl", false), ("xquad_em", "xquad EM", true),
                                                                      ("xquad_f1", "xquad F1", true), ("mgsm_acc", "mgsm acc", true)]
        var header = pad("lang", 5) + " " + pad("metric", 9) + " " + pad(columns[0].0, 10)
        // Room for "-3.70% [-4.12, -3.31]" when the perplexity changes have paired intervals.
        let cw = columns.dropFirst().contains { $0.1.values.contains { $0["ppl_change_low"] != nil } } ? 24 : 8
        for (name, _) in columns.dropFirst() { header += " " + pad(name, 10) + " " + pad("change", cw) }
        print(header)
        for lang in langs {
            for metric in metrics {
                guard let b = columns[0].1[lang]?[metric.key] else { continue }
                func show(_ v: Double) -> String { metric.percent ? String(format: "%.1f%%", 100 * v) : String(format: "%.3f", v) }
                var line = pad(lang, 5) + " " + pad(metric.label, 9) + " " + pad(show(b), 10)
                if columns.count == 1, metric.key == "ppl", let lo = columns[0].1[lang]?["ppl_low"], let hi = columns[0].1[lang]?["ppl_high"] {
                    line += String(format: "   95%% CI [%.3f, %.3f], %d tokens", lo, hi, Int(columns[0].1[lang]?["tokens"] ?? 0))
                }
                for (_, r) in columns.dropFirst() {
                    guard let x = r[lang]?[metric.key] else { continue }
                    var change = metric.percent ? signed(100 * (x - b), decimals: 1) : (b == 0 ? "-" : signed(100 * (x - b) / b, decimals: 2) + "%")
                    if metric.key == "ppl", let lo = r[lang]?["ppl_change_low"], let hi = r[lang]?["ppl_change_high"] {
                        change += " [" + signed(lo, decimals: 2) + ", " + signed(hi, decimals: 2) + "]"
                    }
                    line += " " + pad(show(x), 10) + " " + pad(change, cw)
                }
                print(line)
            }
        }
    }
}
