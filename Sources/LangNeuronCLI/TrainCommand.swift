import ArgumentParser
import Corpus
import Distributed
import Foundation
import Models
import Neurons
import Store
import Training

/// `langneuron train`: fine-tune only the chosen neurons, from a recipe.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train only the chosen neurons of a model from a recipe; writes a sparse delta (or, with lora:, a LoRA adapter).",
        discussion: """
        Writes RUN_DIR/delta.safetensors, metrics.jsonl (one line per step), recipe.yaml and resumable \
        state. Ctrl-C saves the state; `langneuron train --resume RUN_DIR` continues exactly. A recipe \
        with a `lora: {rank: auto | N, alpha: A}` block trains a LoRA adapter on the `trainable` matrices \
        of every layer instead (rank auto: the trainable parameters closest to the neurons' rows/columns) \
        and writes RUN_DIR/adapter, a PEFT adapter directory that --delta and eval --arm merge in memory.
        """)

    @Argument(help: "Recipe file (YAML). Not needed with --resume.")
    var recipe: String?
    @Option(name: .customLong("set"), help: "Override a recipe value, e.g. --set optimizer.lr=1e-5 (repeatable).")
    var overrides: [String] = []
    @Option(help: "Continue the run in this directory from its saved state.")
    var resume: String?
    @Option(help: "Memory the run may plan for (auto, or a size such as 8G): over it, layers are recomputed in the backward pass. Overrides the recipe's memory_budget, also on --resume.")
    var memoryBudget: String?
    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if (recipe == nil) == (resume == nil) { throw ValidationError("give a RECIPE, or --resume RUN_DIR") }
    }

    func run() throws {
        let summary = try train()
        if !summary.completed { throw ExitCode(130) }
    }

    /// Trains (or resumes), prints the summary, and returns it.
    func train() throws -> RunSummary {
        let recipeURL: URL
        var extra = overrides
        if let dir = resume {
            recipeURL = URL(fileURLWithPath: dir).appendingPathComponent("recipe.yaml")
            extra = [] // the run's recipe.yaml already has its overrides applied
            guard FileManager.default.fileExists(atPath: recipeURL.path) else {
                throw CLIError.badInput("\(dir): not a run directory (no recipe.yaml). Pass the directory a previous `train` wrote.")
            }
        } else {
            recipeURL = URL(fileURLWithPath: recipe!)
        }
        var r = try Recipe.load(url: recipeURL, overrides: extra)
        if let dir = resume { r.output = dir }
        if let b = memoryBudget {
            r.memoryBudget = b
            try r.validate(path: "--memory-budget")
        }
        let runDir = URL(fileURLWithPath: r.output)
        if resume == nil, FileManager.default.fileExists(atPath: runDir.appendingPathComponent("state.safetensors").path) {
            throw CLIError.badInput("\(r.output) already holds a run. Resume it with --resume \(r.output), or set another output (--set output=…).")
        }
        let model = try loadModel(r.model, quiet: json)
        let trainable = try r.trainableTensors(path: recipeURL.path)

        // Neurons (with lora: what rank auto is matched to, if given)
        var set: NeuronSet?
        let neuronFile = r.neurons.file ?? r.neurons.random?.match
        if let neuronFile {
            var s = try NeuronSet.load(url: URL(fileURLWithPath: neuronFile))
            try s.validate(against: model.config, fingerprint: model.fingerprint)
            if let random = r.neurons.random { s = try NeuronSet.randomMatching(s, config: model.config, seed: random.seed) }
            set = s
        }
        let slices = set.map { NeuronSelection.slices(masks: $0.toLayerMasks(), trainable: trainable, config: model.config) }
        let target: TrainingTarget
        if let lora = r.lora {
            let matched = slices?.parameterCount(model.config)
            guard let rank = lora.resolvedRank(tensors: trainable, config: model.config, matching: matched) else {
                throw CLIError.badInput("\(recipeURL.path): lora.rank auto needs the neurons to match (neurons.file or neurons.random)")
            }
            target = LoRATraining(model: model.transformer, tensors: trainable, rank: rank, alpha: Float(lora.alpha), seed: lora.seed,
                                  baseModelID: try adapterBaseModelID(of: r.model))
            if let matched, !json {
                printError("lora rank \(rank)\(lora.rank == .auto ? " (auto)" : ""): \(target.parameterCount) parameters against the \(matched) of the neurons' rows/columns")
            }
        } else {
            guard let slices else { throw CLIError.badInput("\(recipeURL.path): no neurons to train (neurons.file or neurons.random)") }
            target = SliceTraining(model: model.transformer, slices: slices)
        }

        // Data
        let source = try resolveCorpus(r.data.train)
        let sampler = try DocumentSampler(documents: r.data.documents, heldout: r.data.heldout, seed: r.data.seed,
                                          minChars: r.data.minChars, language: r.language)
        let split = try sampler.split(path: source.path)
        for w in split.warnings { printError("warning: \(w)") }
        guard !split.train.isEmpty else { throw TrainingError.emptyCorpus(path: source.path, reason: "no document passed the filters") }
        if split.train.count < r.data.documents {
            printError("warning: \(source.lastPathComponent) has \(split.train.count) usable documents, fewer than the \(r.data.documents) asked for")
        }
        let sequences = TrainingData.sequences(documents: split.train.map(\.text), tokenizer: model.tokenizer, seqLen: r.data.seqLen,
                                                   maxTokensPerDocument: r.data.maxTokensPerDocument)
        try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        if resume == nil && Communicator.world.isRoot {
            try r.yaml().write(to: runDir.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
            try set?.write(to: runDir.appendingPathComponent("neurons.json"))
            let w = try DocumentWriter(path: runDir.appendingPathComponent("heldout.jsonl.zst").path)
            for d in split.heldout { try w.write(d) }
            try w.finish()
        }

        let trainer = Trainer(recipe: r, model: model, target: target, sequences: sequences, runDirectory: runDir)
        trainer.deltaMetadata = ["language": r.language, "base_model": r.model, "documents": String(split.train.count)]
        if let set, let neuronFile {
            trainer.deltaMetadata["neurons"] = String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues:
                NeuronStructure.allCases.map { ($0.rawValue, set.count(structure: $0)) }), options: [.sortedKeys]), as: UTF8.self)
            trainer.deltaMetadata["neuron_source"] = r.neurons.random.map { "random(seed \($0.seed), matching \(neuronFile))" } ?? neuronFile
        }
        trainer.log = { printError($0) }
        let progress = ProgressLine(everyOtherwise: 1)
        let started = Date()
        // Not `trainer` itself: the trainer keeps this closure, and a cycle would keep the model
        // alive after the run (an experiment trains several arms in one process).
        let totalSteps = trainer.totalSteps
        trainer.onStep = { s, total in
            let elapsed = Date().timeIntervalSince(started)
            let done = s.step - (totalSteps - total)
            let eta = elapsed / Double(max(1, done)) * Double(total - s.step)
            let line = String(format: "step %d/%d  loss %.4f  lr %.2e  grad %.3f  %.0f tok/s  ETA %@",
                              s.step, total, s.loss, s.lr, s.gradNorm, s.tokensPerS, formatDuration(eta))
            progress.update(line)
        }
        if !json {
            let what = r.lora == nil ? "\(target.parameterCount) parameters (\(set?.totalCount ?? 0) neurons)" : target.summary
            printError("training \(what) on \(sequences.count) sequences from \(split.train.count) documents; \(trainer.totalSteps) steps")
        }
        Interrupt.install()
        let summary = try trainer.run(resume: resume != nil)
        if stderrIsTTY { printError("") }
        if !summary.completed && !Communicator.world.isRoot { throw ExitCode(130) }
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(summary), as: UTF8.self))
        } else {
            print("""
            run          \(runDir.path)
            steps        \(summary.steps)/\(summary.totalSteps)\(summary.completed ? "" : " (interrupted — resume with: langneuron train --resume \(runDir.path))")
            loss         \(summary.firstLoss.map { String(format: "%.4f", $0) } ?? "-") → \(summary.lastLoss.map { String(format: "%.4f", $0) } ?? "-")
            tokens       \(summary.tokens) in \(formatDuration(summary.seconds)) (\(String(format: "%.0f", summary.tokensPerS)) tokens/s)
            trainable    \(summary.trainableParameters) parameters
            peak memory  \(String(format: "%.0f", summary.peakRSSMB)) MB
            \(summary.adapterPath.map { "adapter      \($0)" } ?? "delta        \(summary.deltaPath ?? "-")")
            """)
        }
        return summary
    }
}

/// A corpus path, or a data-set name resolved through the data root.
func resolveCorpus(_ spec: String) throws -> URL {
    if FileManager.default.fileExists(atPath: spec) { return URL(fileURLWithPath: spec) }
    return try DataRoot.resolve(spec)
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}
