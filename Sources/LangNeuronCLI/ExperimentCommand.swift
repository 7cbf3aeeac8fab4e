import ArgumentParser
import Distributed
import Foundation
import ModelIO
import Neurons
import Training
import Yams

/// An enhancement experiment (paper §4): what to detect, how to train, what to measure.
struct ExperimentRecipe: Codable {
    var model: String
    var language: String
    /// Run directory: neuron sets, both training runs, the report.
    var output: String
    var detect: Detect
    /// A training recipe (`langneuron train` format); its model, language, neurons and output are
    /// set by the experiment.
    var train: String
    /// Extra `--set` overrides for both arms.
    var trainOverrides: [String] = []
    /// Seed of the random-neuron arm.
    var randomSeed: UInt64 = 1
    var evaluate: Evaluate

    struct Detect: Codable {
        var corpus: String
        var documents = 16
        var maxTokens = 256
        var topKAttn: Int?
        var topKFfn: Int?
        var epsilon: Double?
        var consistency = 1.0
        var cap: Int?
        /// English neurons to subtract (the authors remove them from every other language's set).
        var excludeEnglish: English?

        struct English: Codable {
            var corpus = "plnd-en"
            var documents = 16
            enum CodingKeys: String, CodingKey, CaseIterable { case corpus, documents }
            init(from decoder: Decoder) throws {
                try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "detect.exclude_english")
                let c = try decoder.container(keyedBy: CodingKeys.self)
                corpus = try c.decodeIfPresent(String.self, forKey: .corpus) ?? "plnd-en"
                documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? 16
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case corpus, documents, maxTokens = "max_tokens", topKAttn = "top_k_attn", topKFfn = "top_k_ffn", epsilon, consistency, cap
            case excludeEnglish = "exclude_english"
        }
        init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "detect")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            corpus = try c.decode(String.self, forKey: .corpus)
            documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? 16
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? 256
            topKAttn = try c.decodeIfPresent(Int.self, forKey: .topKAttn)
            topKFfn = try c.decodeIfPresent(Int.self, forKey: .topKFfn)
            epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon)
            consistency = try c.decodeIfPresent(Double.self, forKey: .consistency) ?? 1.0
            cap = try c.decodeIfPresent(Int.self, forKey: .cap)
            excludeEnglish = try c.decodeIfPresent(English.self, forKey: .excludeEnglish)
        }
    }

    struct Evaluate: Codable {
        var languages = ["en"]
        var tasks = ["ppl"]
        var documents = 12
        var maxTokens = 256
        var limit = 10
        /// Languages for xquad/mgsm when they differ from `languages` (not every language has every benchmark).
        var benchmarkLanguages: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case languages, tasks, documents, maxTokens = "max_tokens", limit, benchmarkLanguages = "benchmark_languages"
        }
        init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "evaluate")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            languages = try c.decodeIfPresent([String].self, forKey: .languages) ?? ["en"]
            tasks = try c.decodeIfPresent([String].self, forKey: .tasks) ?? ["ppl"]
            documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? 12
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? 256
            limit = try c.decodeIfPresent(Int.self, forKey: .limit) ?? 10
            benchmarkLanguages = try c.decodeIfPresent([String].self, forKey: .benchmarkLanguages)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, language, output, detect, train, trainOverrides = "train_overrides", randomSeed = "random_seed", evaluate
    }
    init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "experiment")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        language = try c.decode(String.self, forKey: .language)
        output = try c.decode(String.self, forKey: .output)
        detect = try c.decode(Detect.self, forKey: .detect)
        train = try c.decode(String.self, forKey: .train)
        trainOverrides = try c.decodeIfPresent([String].self, forKey: .trainOverrides) ?? []
        randomSeed = try c.decodeIfPresent(UInt64.self, forKey: .randomSeed) ?? 1
        evaluate = try c.decode(Evaluate.self, forKey: .evaluate)
    }

    static func load(_ path: String) throws -> ExperimentRecipe {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIError.badInput("\(path): cannot read the experiment recipe as UTF-8 text")
        }
        if let p = YAMLInput.problem(in: text, maxBytes: Recipe.maxBytes) { throw CLIError.badInput("\(path): the experiment recipe \(p)") }
        do { return try YAMLDecoder().decode(ExperimentRecipe.self, from: text) } catch let DecodingError.dataCorrupted(ctx) {
            // The blocks' strict decoders do not know the file; YAML syntax errors span lines.
            if let inner = ctx.underlyingError {
                throw CLIError.badInput("\(path): \(TextLimits.firstLine(inner.localizedDescription, limit: 400))")
            }
            throw CLIError.badInput("\(path): \(TextLimits.firstLine(ctx.debugDescription, limit: 400))")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw CLIError.badInput("\(path): '\((ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))' is required")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw CLIError.badInput("\(path): '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' must be of type \(type)")
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError.badInput("\(path): not a valid experiment recipe: \(TextLimits.firstLine("\(error)", limit: 400))")
        }
    }
}

/// `langneuron experiment`: detection, training of language and random neurons, evaluation, report.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run the enhancement experiment from one recipe: detect, train language and random neurons, evaluate, report.",
        discussion: """
        Writes OUTPUT/neurons-*.json, OUTPUT/language and OUTPUT/random (training runs with deltas), \
        OUTPUT/report.json ({"arms": {"base"|"language"|"random": {LANG: {ppl, tokens, …}}}, "neurons": …}), \
        OUTPUT/report.md, OUTPUT/loss.svg (both arms) and OUTPUT/delta.svg (change per language). \
        Finished steps (neuron sets, deltas) are reused on a rerun if they were made with the same settings \
        (recorded in OUTPUT/steps.json; other settings are an error naming the step); an interrupted training \
        run resumes.
        """)

    @Argument(help: "Experiment recipe (YAML), e.g. recipes/vi-enhance.yaml.")
    var recipe: String

    func run() throws {
        let r = try ExperimentRecipe.load(recipe)
        let out = URL(fileURLWithPath: r.output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let started = Date()
        func path(_ name: String) -> String { out.appendingPathComponent(name).path }
        func exists(_ p: String) -> Bool { FileManager.default.fileExists(atPath: p) }
        // Under mpirun every rank runs every step (each its share); rank 0 writes. The ranks meet
        // after each step so that all of them see its files before deciding what to do next.
        let world = Communicator.world
        func stepDone(_ what: String) throws { try world.barrier(what: "the end of step '\(what)'") }

        // The evaluation's inputs are checked first, so that a missing benchmark file stops the run
        // now and not after an hour of training. The target language is evaluated on the training
        // run's held-out split (written by training), the others from their data sets.
        var evalArgs = [r.model, "--tasks", r.evaluate.tasks.joined(separator: ","),
                        "--languages", ([r.language] + r.evaluate.languages.filter { $0 != r.language }).joined(separator: ","),
                        "--documents", String(r.evaluate.documents), "--max-tokens", String(r.evaluate.maxTokens),
                        "--limit", String(r.evaluate.limit),
                        "--arm", "language=\(path("language"))/delta.safetensors", "--arm", "random=\(path("random"))/delta.safetensors"]
        if let b = r.evaluate.benchmarkLanguages { evalArgs += ["--benchmark-languages", b.joined(separator: ",")] }
        if r.evaluate.tasks.contains("ppl") { evalArgs += ["--corpus", "\(r.language)=\(path("language"))/heldout.jsonl.zst"] }
        let eval = try EvalCommand.parse(evalArgs)
        do { try eval.checkInputs(notYetWritten: [r.language]) } catch {
            throw CLIError.badInput("\(recipe): evaluate: \(error.localizedDescription)")
        }

        // Each step's settings are recorded, so that a rerun reuses a step only if it would redo it the same way.
        var steps = try ExperimentSteps(url: out.appendingPathComponent("steps.json"))

        // 1. Neurons
        var excludeArgs = [String]()
        if let en = r.detect.excludeEnglish {
            let file = path("neurons-en.json")
            let args = detectArgs(r, corpus: en.corpus, language: "en", documents: en.documents, output: file)
            if try !steps.reuse("neurons-en.json", settings: args, exists: exists(file)) {
                printError("== detect English neurons")
                try DetectCommand.parse(args).run()
                try steps.record("neurons-en.json", settings: args)
            }
            try stepDone("neurons-en.json")
            excludeArgs = ["--exclude", file]
        }
        let setFile = path("neurons-\(r.language).json")
        let setArgs = detectArgs(r, corpus: r.detect.corpus, language: r.language, documents: r.detect.documents, output: setFile) + excludeArgs
        if try !steps.reuse("neurons-\(r.language).json", settings: setArgs, exists: exists(setFile)) {
            printError("== detect \(r.language) neurons")
            try DetectCommand.parse(setArgs).run()
            try steps.record("neurons-\(r.language).json", settings: setArgs)
        }
        try stepDone("neurons-\(r.language).json")

        // 2. Both arms, same data and schedule
        let common = ["--set", "model=\(r.model)", "--set", "language=\(r.language)"] + r.trainOverrides.flatMap { ["--set", $0] }
        let arms: [(String, [String])] = [
            ("language", ["--set", "neurons.file=\(setFile)"]),
            ("random", ["--set", "neurons.file=null", "--set", "neurons.random.match=\(setFile)", "--set", "neurons.random.seed=\(r.randomSeed)"]),
        ]
        let trainRecipe = try readTextFile(r.train)
        for (name, neurons) in arms {
            let dir = path(name)
            let args = [r.train] + common + neurons + ["--set", "output=\(dir)"]
            // The recipe's text counts too: editing recipes/vi.yaml must not reuse a run made before.
            let settings = args + ["recipe sha256 " + SHA256Hasher.hex(Data(trainRecipe.utf8)),
                                   "neurons sha256 " + (try SHA256Hasher.hex(fileAt: URL(fileURLWithPath: setFile)))]
            let started = exists(dir + "/delta.safetensors") || exists(dir + "/state.safetensors") || exists(dir + "/metrics.jsonl")
            if try steps.reuse(name, settings: settings, exists: started) && exists(dir + "/delta.safetensors") {
                try stepDone(name)
                continue
            }
            try steps.record(name, settings: settings)
            try stepDone("record \(name)")
            printError("== train \(name) neurons")
            if exists(dir + "/state.safetensors") {
                try TrainCommand.parse(["--resume", dir]).run()
            } else {
                try TrainCommand.parse(args).run()
            }
            try stepDone(name)
        }

        // 3. Evaluation (its inputs were checked before step 1)
        printError("== evaluate base, language and random")
        let (columns, fingerprint) = try eval.evaluate()
        guard world.isRoot else { return }

        // 4. Report
        let neuronCount = try NeuronsFile.count(setFile)
        var armsObj = [String: Any]()
        for (name, metrics) in columns { armsObj[name] = metrics }
        let report: [String: Any] = [
            "format": "langneuron.experiment/1", "model": r.model, "model_fingerprint": fingerprint, "language": r.language,
            "arms": armsObj, "neurons": ["language": neuronCount, "random": neuronCount],
            "recipe": recipe, "seconds": Date().timeIntervalSince(started),
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: out.appendingPathComponent("report.json"), options: .atomic)
        let langs = columns.first.map { Array($0.1.keys).sorted { a, b in (a == r.language ? 0 : 1, a) < (b == r.language ? 0 : 1, b) } } ?? []
        let table = ExperimentReport.markdown(columns: columns, languages: langs)
        let md = """
        # Enhancement experiment: \(r.language) on \(r.model)

        \(neuronCount) \(r.language)-specific neurons (PLND on \(r.detect.documents) documents of \(r.detect.corpus)\
        \(r.detect.excludeEnglish != nil ? ", English neurons removed" : "")) trained with `\(r.train)`; the random arm trains \
        the same number of neurons per layer and structure (seed \(r.randomSeed)) on the same data. Target-language \
        perplexity is on the training run's held-out documents.

        \(table)
        ![loss](loss.svg) ![change](delta.svg) ![neurons](neurons.svg)
        """
        try md.write(to: out.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        let histories = try arms.map { (name, _) in (name: name, history: try ExperimentReport.metrics(path(name) + "/metrics.jsonl")) }
        try LossPlot.svg(series: histories, title: "training loss: \(r.language) on \(r.model)")
            .write(to: out.appendingPathComponent("loss.svg"), atomically: true, encoding: .utf8)
        try ExperimentReport.deltaSVG(columns: columns, languages: langs)
            .write(to: out.appendingPathComponent("delta.svg"), atomically: true, encoding: .utf8)
        try writePlot(NeuronSet.load(url: URL(fileURLWithPath: setFile)).countsSVG(), to: path("neurons.svg"))
        print(table)
        print("report: \(out.appendingPathComponent("report.md").path) (\(formatDuration(Date().timeIntervalSince(started))))")
    }

    func detectArgs(_ r: ExperimentRecipe, corpus: String, language: String, documents: Int, output: String) -> [String] {
        var a = [r.model, "--corpus", corpus, "--language", language, "--documents", String(documents),
                 "--max-tokens", String(r.detect.maxTokens), "--consistency", String(r.detect.consistency), "--output", output]
        if let k = r.detect.topKAttn { a += ["--top-k-attn", String(k)] }
        if let k = r.detect.topKFfn { a += ["--top-k-ffn", String(k)] }
        if let e = r.detect.epsilon { a += ["--epsilon", String(e)] }
        if let c = r.detect.cap { a += ["--cap", String(c)] }
        return a
    }
}

/// `OUTPUT/steps.json`: the settings each finished (or started) step was made with.
struct ExperimentSteps {
    let url: URL
    var settings: [String: [String]]

    init(url: URL) throws {
        self.url = url
        if let data = FileManager.default.contents(atPath: url.path) {
            guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: [String]] else {
                throw CLIError.badInput("\(url.path): not a step record (JSON object of string lists). Delete it to rerun every step.")
            }
            settings = obj
        } else {
            settings = [:]
        }
    }

    /// Settings with the run directory written as `OUTPUT`, so a moved run directory still matches.
    func portable(_ given: [String]) -> [String] {
        let dir = url.deletingLastPathComponent().path
        return given.map { $0.replacingOccurrences(of: dir, with: "OUTPUT") }
    }

    /// Whether the existing output of `step` may be reused: yes if it was made with `settings`;
    /// an error if it was made with others (the user decides what to delete); with no record
    /// (a run from an older version) it is reused with a warning.
    mutating func reuse(_ step: String, settings given: [String], exists: Bool) throws -> Bool {
        guard exists else { return false }
        let now = portable(given)
        guard let before = settings[step] else {
            printError("warning: \(url.deletingLastPathComponent().path)/\(step) has no record of its settings; reusing it as it is")
            try record(step, settings: given)
            return true
        }
        guard before == now else {
            let changed = Set(now).symmetricDifference(Set(before)).sorted().joined(separator: "; ")
            throw CLIError.badInput("""
                \(url.deletingLastPathComponent().path)/\(step) was made with other settings than this recipe asks for \
                (differences: \(changed)). Delete it to redo that step (and the steps after it), or set another `output`.
                """)
        }
        return true
    }

    mutating func record(_ step: String, settings given: [String]) throws {
        settings[step] = portable(given)
        guard Communicator.world.isRoot else { return }
        let data = try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }
}

/// Reading neuron counts without the model.
enum NeuronsFile {
    static func count(_ path: String) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let layers = obj["layers"] as? [String: [String: [Int]]] else {
            throw CLIError.badInput("\(path): not a neuron set")
        }
        return layers.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
    }
}

/// The experiment's table and plots.
enum ExperimentReport {
    static let metrics: [(key: String, label: String, higherIsBetter: Bool)] = [
        ("ppl", "perplexity", false), ("xquad_f1", "XQuAD F1", true), ("xquad_em", "XQuAD EM", true), ("mgsm_acc", "MGSM accuracy", true),
    ]

    static func markdown(columns: [(String, EvalCommand.ArmMetrics)], languages: [String]) -> String {
        var s = "| language | metric | " + columns.map(\.0).joined(separator: " | ") + " | " + columns.dropFirst().map { "Δ \($0.0)" }.joined(separator: " | ") + " |\n"
        s += "|---|---|" + String(repeating: "---:|", count: columns.count * 2 - 1) + "\n"
        for lang in languages {
            for m in metrics {
                guard let b = columns.first?.1[lang]?[m.key] else { continue }
                let vals = columns.map { c in c.1[lang]?[m.key].map { m.key == "ppl" ? String(format: "%.3f", $0) : String(format: "%.1f%%", 100 * $0) } ?? "-" }
                let deltas = columns.dropFirst().map { c -> String in
                    guard let x = c.1[lang]?[m.key] else { return "-" }
                    return m.key == "ppl" ? signed(100 * (x - b) / b, decimals: 2) + "%" : signed(100 * (x - b), decimals: 1)
                }
                s += "| \(lang) | \(m.label) | " + vals.joined(separator: " | ") + " | " + deltas.joined(separator: " | ") + " |\n"
            }
        }
        return s
    }

    static func metrics(_ path: String) throws -> [StepMetrics] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSONDecoder().decode(StepMetrics.self, from: Data($0.utf8)) }
    }

    /// Bars: relative perplexity change of each arm against the base, per language.
    static func deltaSVG(columns: [(String, EvalCommand.ArmMetrics)], languages: [String]) -> String {
        let arms = Array(columns.dropFirst())
        let w = 120.0 + Double(languages.count) * 40.0 * Double(max(1, arms.count)) + 40, h = 300.0, top = 40.0, ph = 200.0
        var changes = [[Double]]()
        for lang in languages {
            let b = columns.first?.1[lang]?["ppl"] ?? .nan
            changes.append(arms.map { 100 * (($0.1[lang]?["ppl"] ?? .nan) - b) / b })
        }
        let maxAbs = max(0.5, changes.flatMap { $0 }.filter(\.isFinite).map(abs).max() ?? 1)
        func y(_ v: Double) -> Double { top + ph / 2 - v / maxAbs * (ph / 2) }
        let colors = ["#0057b8", "#999999", "#2a9d3a"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"20\" font-size=\"14\">perplexity change vs base (%)</text>\n"
        s += "<line x1=\"60\" x2=\"\(Int(w - 10))\" y1=\"\(y(0))\" y2=\"\(y(0))\" stroke=\"#333\"/>\n"
        s += "<text x=\"55\" y=\"\(y(maxAbs) + 4)\" text-anchor=\"end\">+\(String(format: "%.1f", maxAbs))</text><text x=\"55\" y=\"\(y(-maxAbs) + 4)\" text-anchor=\"end\">-\(String(format: "%.1f", maxAbs))</text>\n"
        var x = 70.0
        for (li, lang) in languages.enumerated() {
            for (ai, v) in changes[li].enumerated() where v.isFinite {
                let y0 = min(y(0), y(v)), hh = abs(y(v) - y(0))
                s += "<rect x=\"\(x)\" y=\"\(y0)\" width=\"30\" height=\"\(max(hh, 0.5))\" fill=\"\(colors[ai % colors.count])\"/>\n"
                s += "<text x=\"\(x + 15)\" y=\"\(v < 0 ? y(v) + 14 : y(v) - 4)\" text-anchor=\"middle\" font-size=\"10\">\(signed(v, decimals: 1))</text>\n"
                x += 34
            }
            s += "<text x=\"\(x - 17 * Double(arms.count))\" y=\"\(top + ph + 24)\" text-anchor=\"middle\">\(lang)</text>\n"
            x += 20
        }
        for (ai, a) in arms.enumerated() {
            s += "<rect x=\"\(70 + 110 * Double(ai))\" y=\"\(h - 24)\" width=\"12\" height=\"12\" fill=\"\(colors[ai % colors.count])\"/><text x=\"\(86 + 110 * Double(ai))\" y=\"\(h - 14)\">\(a.0)</text>\n"
        }
        return s + "</svg>\n"
    }
}
