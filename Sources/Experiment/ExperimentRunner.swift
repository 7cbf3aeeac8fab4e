import Foundation
import ModelIO
import Models
import Neurons
import Training

/// One PLND detection the experiment asks for.
public struct DetectRequest: Equatable {
    public var model: String
    public var corpus: String
    public var language: String
    public var documents: Int
    public var maxTokens: Int
    public var topKAttn: Int?
    public var topKFfn: Int?
    public var epsilon: Double?
    public var consistency: Double
    public var cap: Int?
    /// A neuron set to subtract.
    public var exclude: String?
    public var output: String

    /// The request as `langneuron detect` arguments (also the step's recorded settings).
    public var arguments: [String] {
        var a = [model, "--corpus", corpus, "--language", language, "--documents", String(documents),
                 "--max-tokens", String(maxTokens), "--consistency", String(consistency), "--output", output]
        if let k = topKAttn { a += ["--top-k-attn", String(k)] }
        if let k = topKFfn { a += ["--top-k-ffn", String(k)] }
        if let e = epsilon { a += ["--epsilon", String(e)] }
        if let c = cap { a += ["--cap", String(c)] }
        if let x = exclude { a += ["--exclude", x] }
        return a
    }
}

/// One training run: a recipe file and overrides (`block.key=value`).
public struct TrainRequest: Equatable {
    public var recipe: String
    public var overrides: [String]
    /// Continue the run in `output` from its saved state.
    public var resume: Bool
    public var output: String
}

/// The evaluation of the base and every trained arm.
public struct EvaluationRequest: Equatable {
    public var model: String
    public var tasks: [String]
    /// Target language first.
    public var languages: [String]
    public var benchmarkLanguages: [String]?
    public var documents: Int
    public var maxTokens: Int
    public var limit: Int
    /// Perplexity corpus per language (the target language's held-out split).
    public var corpora: [String: String]
    /// Arm name and delta file, in column order (the base is evaluated first, always).
    public var arms: [(name: String, delta: String)]

    public static func == (a: Self, b: Self) -> Bool {
        a.model == b.model && a.tasks == b.tasks && a.languages == b.languages && a.benchmarkLanguages == b.benchmarkLanguages
            && a.documents == b.documents && a.maxTokens == b.maxTokens && a.limit == b.limit && a.corpora == b.corpora
            && a.arms.map(\.name) == b.arms.map(\.name) && a.arms.map(\.delta) == b.arms.map(\.delta)
    }
}

/// What the experiment needs done by the tool: detection, training, evaluation. The command line
/// provides one that runs its commands; tests provide one that records the requests.
public protocol ExperimentBackend {
    /// Checks, before anything long runs, that the evaluation's inputs exist (except the corpora
    /// of `notYetWritten` languages, which training writes).
    func checkEvaluation(_ request: EvaluationRequest, notYetWritten: Set<String>) throws
    /// Writes the neuron set `request.output`.
    func detect(_ request: DetectRequest) throws
    /// Trains one arm into `request.output` (delta.safetensors, metrics.jsonl, heldout.jsonl.zst).
    func train(_ request: TrainRequest) throws -> TrainOutcome
    /// Evaluates the base (first column) and each arm; returns the columns and the model's fingerprint.
    func evaluate(_ request: EvaluationRequest) throws -> (columns: [(String, ArmMetrics)], fingerprint: String)
    func log(_ line: String)
    /// Under mpirun: every rank runs every step (each its share) and they meet after each one,
    /// so that all see the step's files before deciding what to do next.
    func stepDone(_ step: String) throws
    /// Whether this process writes files (rank 0 under mpirun; always in one process).
    var writesFiles: Bool { get }
}

extension ExperimentBackend {
    public func stepDone(_ step: String) throws {}
    public var writesFiles: Bool { true }
}

/// The enhancement experiment: detect, train every arm on the same data and schedule, evaluate,
/// write `report.json`, `report.md`, `report.html` and the plots. Finished steps are reused on a
/// rerun if they were made with the same settings (`steps.json`); an interrupted training resumes.
public struct ExperimentRunner {
    public let recipe: ExperimentRecipe
    /// Path of the recipe file (recorded in the report).
    public let recipePath: String
    public let backend: ExperimentBackend

    public init(recipe: ExperimentRecipe, recipePath: String, backend: ExperimentBackend) {
        self.recipe = recipe; self.recipePath = recipePath; self.backend = backend
    }

    public var outputDirectory: URL { URL(fileURLWithPath: recipe.output) }
    func path(_ name: String) -> String { outputDirectory.appendingPathComponent(name).path }
    func exists(_ p: String) -> Bool { FileManager.default.fileExists(atPath: p) }

    /// Wall time of each step this run did (reused steps are not listed), in order; in the report.
    final class StepClock { var timings = [(step: String, seconds: Double)]() }
    let clock = StepClock()
    func timed(_ step: String, since start: Date) {
        let s = Date().timeIntervalSince(start)
        clock.timings.append((step, s))
        backend.log("   \(step): \(ExperimentReport.duration(s))")
    }

    /// The trained runs, in order: (arm, seed of a random draw, run directory name).
    public var plannedRuns: [(arm: Arm, seed: UInt64?, directory: String)] {
        recipe.trainedArms.flatMap { a -> [(arm: Arm, seed: UInt64?, directory: String)] in
            a == .random ? recipe.randomSeeds.map { (a, $0, "random-\($0)") } : [(a, nil, a.rawValue)]
        }
    }

    func evaluationRequest() -> EvaluationRequest {
        let r = recipe
        var corpora = [String: String]()
        if r.evaluate.tasks.contains("ppl") { corpora[r.language] = path(plannedRuns.first?.directory ?? "language") + "/heldout.jsonl.zst" }
        return EvaluationRequest(model: r.model, tasks: r.evaluate.tasks,
                                 languages: [r.language] + r.evaluate.languages.filter { $0 != r.language },
                                 benchmarkLanguages: r.evaluate.benchmarkLanguages, documents: r.evaluate.documents,
                                 maxTokens: r.evaluate.maxTokens, limit: r.evaluate.limit, corpora: corpora,
                                 arms: plannedRuns.map { (name: $0.directory, delta: Self.result($0.arm, in: path($0.directory)).path) })
    }

    /// What a finished run of `arm` leaves in `dir` for the evaluation (the sparse delta, or the
    /// `lora` arm's PEFT adapter directory), and the file whose presence says it finished and whose
    /// SHA-256 the report lists.
    public static func result(_ arm: Arm, in dir: String) -> (path: String, file: String) {
        guard arm == .lora else { return (dir + "/delta.safetensors", dir + "/delta.safetensors") }
        let adapter = dir + "/" + LoRATraining.adapterDirectory
        return (adapter, adapter + "/" + PEFTAdapter.weightsFile)
    }

    /// Runs every step (reusing finished ones) and writes the report; returns the results.
    @discardableResult
    public func run() throws -> ExperimentResults {
        let r = recipe
        let started = Date()
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)

        // The evaluation's inputs are checked first, so that a missing benchmark file stops the run
        // now and not after an hour of training.
        let evaluation = evaluationRequest()
        try backend.checkEvaluation(evaluation, notYetWritten: [r.language])

        var steps = try ExperimentSteps(url: outputDirectory.appendingPathComponent("steps.json"))
        clock.timings = []
        steps.warn = backend.log
        steps.writes = backend.writesFiles

        // 1. Neurons
        var exclude: String?
        if let en = r.detect.excludeEnglish {
            let req = detectRequest(corpus: en.corpus, language: "en", documents: en.documents, exclude: nil, output: path("neurons-en.json"))
            if try !steps.reuse("neurons-en.json", settings: req.arguments, exists: exists(req.output)) {
                backend.log("== detect English neurons")
                let t = Date()
                try backend.detect(req)
                timed("detect en", since: t)
                try steps.record("neurons-en.json", settings: req.arguments)
            }
            try backend.stepDone("neurons-en.json")
            exclude = req.output
        }
        let setFile = path("neurons-\(r.language).json")
        let setReq = detectRequest(corpus: r.detect.corpus, language: r.language, documents: r.detect.documents, exclude: exclude, output: setFile)
        if try !steps.reuse("neurons-\(r.language).json", settings: setReq.arguments, exists: exists(setFile)) {
            backend.log("== detect \(r.language) neurons")
            let t = Date()
            try backend.detect(setReq)
            timed("detect \(r.language)", since: t)
            try steps.record("neurons-\(r.language).json", settings: setReq.arguments)
        }
        try backend.stepDone("neurons-\(r.language).json")
        let set = try NeuronSet.load(url: URL(fileURLWithPath: setFile))
        if r.arms.contains(.full) && backend.writesFiles { try writeAllNeurons(like: set, to: path("neurons-all.json")) }
        try backend.stepDone("neurons-all.json")

        // 2. Every arm, same data and schedule
        let trainText: String
        do { trainText = try String(contentsOfFile: r.train, encoding: .utf8) } catch {
            throw ExperimentError.invalidRecipe(path: recipePath, field: "train", reason: "names \(r.train), which cannot be read (\(error.localizedDescription))")
        }
        let common = ["model=\(r.model)", "language=\(r.language)"] + r.trainOverrides
        var runs = [ArmRun]()
        for planned in plannedRuns {
            let dir = path(planned.directory)
            let neurons: [String]
            let neuronFile: String
            switch planned.arm {
            case .language: neurons = ["neurons.file=\(setFile)"]; neuronFile = setFile
            case .random:
                neurons = ["neurons.file=null", "neurons.random.match=\(setFile)", "neurons.random.seed=\(planned.seed ?? 1)"]
                neuronFile = setFile
            case .full: neurons = ["neurons.file=\(path("neurons-all.json"))"]; neuronFile = path("neurons-all.json")
            case .lora:
                // The same matrices (`trainable:`) in every layer; rank auto is matched to the language set.
                let l = r.lora
                neurons = ["neurons.file=\(setFile)", "lora.rank=\(l.rank)", "lora.alpha=\(l.alpha)", "lora.seed=\(l.seed)"]
                neuronFile = setFile
            case .base: continue
            }
            let overrides = common + neurons + ["output=\(dir)"]
            // The recipe's text and the neuron set count too: editing recipes/vi.yaml must not reuse a run made before.
            let settings = [r.train] + overrides.flatMap { ["--set", $0] }
                + ["recipe sha256 " + SHA256Hasher.hex(Data(trainText.utf8)),
                   "neurons sha256 " + (try SHA256Hasher.hex(fileAt: URL(fileURLWithPath: neuronFile)))]
            let outcomeFile = URL(fileURLWithPath: dir).appendingPathComponent("outcome.json")
            let finished = Self.result(planned.arm, in: dir).file
            let begun = exists(finished) || exists(dir + "/state.safetensors") || exists(dir + "/metrics.jsonl")
            var outcome: TrainOutcome?
            if try steps.reuse(planned.directory, settings: settings, exists: begun) && exists(finished) {
                outcome = try? JSONDecoder().decode(TrainOutcome.self, from: Data(contentsOf: outcomeFile))
            } else {
                try steps.record(planned.directory, settings: settings)
                let resume = exists(dir + "/state.safetensors")
                try backend.stepDone("record \(planned.directory)")
                backend.log("== train \(planned.directory)")
                let t = Date()
                let o = try backend.train(TrainRequest(recipe: r.train, overrides: overrides, resume: resume, output: dir))
                timed("train \(planned.directory)", since: t)
                let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .prettyPrinted]
                if backend.writesFiles { try AtomicFileWriter.write(try enc.encode(o), to: outcomeFile) }
                outcome = o
            }
            try backend.stepDone(planned.directory)
            let history = try Self.metrics(dir + "/metrics.jsonl")
            if outcome == nil, let last = history.last {
                // A run from before outcome.json: what its metrics say.
                outcome = TrainOutcome(seconds: history.reduce(0) { $0 + $1.seconds }, finalLoss: last.loss, steps: last.step)
            }
            runs.append(ArmRun(arm: planned.arm, seed: planned.seed, metrics: [:], training: outcome, history: history))
        }

        // 3. Evaluation (its inputs were checked before step 1)
        backend.log("== evaluate base and \(plannedRuns.map(\.directory).joined(separator: ", "))")
        let evaluationStart = Date()
        let (columns, fingerprint) = try backend.evaluate(evaluation)
        timed("evaluate \(1 + plannedRuns.count) models", since: evaluationStart)
        guard let base = columns.first(where: { $0.0 == "base" })?.1 else {
            throw ExperimentError.badFile(path: recipe.output, reason: "the evaluation returned no base column")
        }
        for i in runs.indices {
            guard let m = columns.first(where: { $0.0 == runs[i].name })?.1 else {
                throw ExperimentError.badFile(path: recipe.output, reason: "the evaluation returned no column for \(runs[i].name)")
            }
            runs[i].metrics = m
        }
        let results = ExperimentResults(model: r.model, modelFingerprint: fingerprint, language: r.language,
                                        languages: evaluation.languages, base: base, runs: runs)

        // 4. Report
        guard backend.writesFiles else { return results }
        try writeReport(results, set: set, setFile: setFile, trainText: trainText, seconds: Date().timeIntervalSince(started))
        return results
    }

    /// The summary's clause on the `lora` arm: its rank and alpha, on which matrices.
    func loraText(_ results: ExperimentResults) -> String {
        guard let run = results.runs(of: .lora).first else { return "" }
        let rank = run.training?.loraRank.map { "rank \($0)" } ?? "rank \(recipe.lora.rank)"
        let auto = recipe.lora.rank == .auto ? " (auto: the trainable parameters closest to the language arm's)" : ""
        return "; the lora arm trains a \(rank)\(auto) update with alpha \(String(format: "%g", recipe.lora.alpha)) of the same matrices in every layer"
    }

    func detectRequest(corpus: String, language: String, documents: Int, exclude: String?, output: String) -> DetectRequest {
        let d = recipe.detect
        return DetectRequest(model: recipe.model, corpus: corpus, language: language, documents: documents, maxTokens: d.maxTokens,
                             topKAttn: d.topKAttn, topKFfn: d.topKFfn, epsilon: d.epsilon, consistency: d.consistency, cap: d.cap,
                             exclude: exclude, output: output)
    }

    /// The `full` arm's set: every neuron of every layer and structure (of the model `set` is for),
    /// so that training selects every row/column of the trained matrices.
    func writeAllNeurons(like set: NeuronSet, to path: String) throws {
        guard let sizes = set.sizes else {
            throw ExperimentError.badFile(path: set.source, reason: "records no model sizes (model.layers, model.sizes), which the full arm needs; detect it again")
        }
        var layers = [Int: LayerMask]()
        for l in 0..<sizes.layers {
            var m = LayerMask()
            for st in NeuronStructure.allCases { m[st] = Array(0..<sizes.count(st)) }
            layers[l] = m
        }
        var all = NeuronSet(fingerprint: set.fingerprint, language: set.language, sizes: sizes, layers: layers)
        all.extra["note"] = .string("every neuron: the full fine-tuning arm")
        try all.write(to: URL(fileURLWithPath: path))
    }

    static func metrics(_ path: String) throws -> [StepMetrics] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            do { return try JSONDecoder().decode(StepMetrics.self, from: Data($0.utf8)) } catch {
                throw ExperimentError.badFile(path: path, reason: "a line is not a step record (\(error.localizedDescription))")
            }
        }
    }

    func writeReport(_ results: ExperimentResults, set: NeuronSet, setFile: String, trainText: String, seconds: Double) throws {
        let r = recipe
        let neuronCount = set.totalCount
        let dir = outputDirectory
        func write(_ text: String, _ name: String) throws { try AtomicFileWriter.write(Data(text.utf8), to: dir.appendingPathComponent(name)) }

        var fingerprints: [(name: String, sha256: String)] = [("model \(r.model)", results.modelFingerprint)]
        fingerprints.append((URL(fileURLWithPath: setFile).lastPathComponent, try SHA256Hasher.hex(fileAt: URL(fileURLWithPath: setFile))))
        for p in plannedRuns {
            let file = Self.result(p.arm, in: path(p.directory)).file
            let shown = p.directory + file.dropFirst(path(p.directory).count)
            if exists(file) { fingerprints.append((shown, try SHA256Hasher.hex(fileAt: URL(fileURLWithPath: file)))) }
        }
        let recipeText = (try? String(contentsOfFile: recipePath, encoding: .utf8)) ?? ""
        var extra: [String: Any] = [
            "recipe": recipePath, "seconds": seconds,
            "neurons": ["language": neuronCount, "random": neuronCount, "random_seeds": r.randomSeeds.map { Int(truncatingIfNeeded: $0) }] as [String: Any],
            "fingerprints": Dictionary(fingerprints.map { ($0.name, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
        ]
        if let p = results.trainableParameters(.full) { extra["full_parameters"] = p }
        extra["step_seconds"] = clock.timings.map { ["step": $0.step, "seconds": $0.seconds] as [String: Any] }
        try AtomicFileWriter.write(try ExperimentReport.json(results, extra: extra), to: dir.appendingPathComponent("report.json"))

        let draws = results.runs(of: .random).count
        let summary = """
        \(neuronCount) \(r.language)-specific neurons (PLND on \(r.detect.documents) documents of \(r.detect.corpus)\
        \(r.detect.excludeEnglish != nil ? ", English neurons removed" : "")) trained with \(r.train)\
        \(draws > 0 ? "; the random arm trains the same number of neurons per layer and structure (\(draws) draws, seeds \(r.randomSeeds.map(String.init).joined(separator: ", ")))" : "")\
        \(loraText(results))\
        \(results.arms.contains(.full) ? "; the full arm trains every row/column of the same matrices" : ""); \
        every arm on the same data with the same schedule. Target-language perplexity is on the training run's held-out documents.
        """
        let table = ExperimentReport.markdown(results)
        var md = "# Enhancement experiment: \(r.language) on \(r.model)\n\n\(summary)\n\n\(table)\n"
        md += "## Training\n\n" + ExperimentReport.trainingMarkdown(results) + "\n"
        if draws > 0 { md += "## Random draws\n\n" + ExperimentReport.drawsMarkdown(results) + "\n" }
        if results.metricKinds.contains(where: { $0.key == "ppl" }) {
            md += "## Perplexity, 95% bootstrap intervals\n\n" + ExperimentReport.intervalsMarkdown(results) + "\n"
            let paired = ExperimentReport.pairedChangesMarkdown(results)
            if !paired.isEmpty { md += "## Perplexity change against the base, paired 95% bootstrap intervals\n\n" + ExperimentReport.pairedNote + "\n\n" + paired + "\n" }
        }
        if !clock.timings.isEmpty { md += "## Wall time of the steps this run did\n\n" + ExperimentReport.stepsMarkdown(clock.timings, total: seconds) + "\n" }
        md += "![loss](loss.svg) ![change](delta.svg) ![neurons](neurons.svg)\n\nAll of it on one page: [report.html](report.html).\n"
        try write(md, "report.md")

        let series = results.runs.map { (name: $0.name, history: $0.history) }.filter { !$0.history.isEmpty }
        try write(LossPlot.svg(series: series, title: "training loss: \(r.language) on \(r.model)"), "loss.svg")
        if let ppl = results.metricKinds.first { try write(ExperimentReport.changeSVG(results, metric: ppl), "delta.svg") }
        let neuronsSVG = set.countsSVG()
        try write(neuronsSVG, "neurons.svg")
        let ctx = ExperimentHTML.Context(
            title: "Enhancement experiment: \(r.language) on \(r.model)", summary: summary, neuronsSVG: neuronsSVG,
            recipes: [(recipePath, recipeText), (r.train, trainText)], fingerprints: fingerprints, wallSeconds: seconds,
            steps: clock.timings)
        try write(ExperimentHTML.page(results, context: ctx), "report.html")
    }
}
