import Distributed
import Foundation
import Kernels
import ModelIO
import Models

/// One optimizer step's record (a line of `metrics.jsonl`).
public struct StepMetrics: Codable, Equatable {
    public let step: Int
    public let epoch: Int
    /// Mean NLL of the step's batch, before its update.
    public let loss: Double
    public let lr: Double
    public let gradNorm: Double
    public let tokens: Int
    public let tokensPerS: Double
    public let seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, lr, gradNorm = "grad_norm", tokens, tokensPerS = "tokens_per_s", seconds
    }
}

/// What a finished (or interrupted) run reports.
public struct RunSummary: Codable {
    public let steps: Int
    public let totalSteps: Int
    public let completed: Bool
    public let firstLoss: Double?
    public let lastLoss: Double?
    public let tokens: Int
    public let seconds: Double
    public let tokensPerS: Double
    public let trainableParameters: Int
    public let peakRSSMB: Double
    /// The sparse delta a slice run wrote (nil for LoRA and unfinished runs).
    public var deltaPath: String? = nil
    /// The adapter directory a LoRA run wrote.
    public var adapterPath: String? = nil
    /// The LoRA rank trained.
    public var loraRank: Int? = nil
}

/// Runs causal-LM training of a `TrainingTarget` (trainable slices of the weights, or LoRA
/// adapters) on prepared sequences: seeded order per epoch, batches with accumulation, warm-up and
/// cosine schedule, clipping over the trained tensors, AdamW, `metrics.jsonl`, atomic checkpoints
/// and exact resume, data-parallel ranks.
public final class Trainer {
    public let recipe: Recipe
    public let model: LoadedModel
    public let target: TrainingTarget
    public let runDirectory: URL
    public let sequences: [TrainingSequence]
    /// Extra metadata for the result (language, neuron counts, recipe, …).
    public var deltaMetadata: [String: String] = [:]
    public var onStep: (StepMetrics, Int) -> Void = { _, _ in }
    public var log: (String) -> Void = { _ in }
    /// The ranks sharing each step (data parallel): each computes the gradients of its block of the
    /// step's sequences, the blocks are summed in rank order, and every rank applies the same
    /// update. Only rank 0 writes metrics, state and the result. One rank: the usual run.
    public var communicator = Communicator.world

    public var stepsPerEpoch: Int { (sequences.count + perStep - 1) / perStep }
    public var totalSteps: Int { stepsPerEpoch * recipe.epochs }
    var perStep: Int { recipe.batch.size * recipe.batch.accumulation }

    public init(recipe: Recipe, model: LoadedModel, target: TrainingTarget, sequences: [TrainingSequence], runDirectory: URL) {
        self.recipe = recipe
        self.model = model
        self.target = target
        self.sequences = sequences
        self.runDirectory = runDirectory
    }

    /// Trains the rows/columns `slices` of the weights (result: `delta.safetensors`).
    public convenience init(recipe: Recipe, model: LoadedModel, slices: TrainableSlices, sequences: [TrainingSequence], runDirectory: URL) {
        self.init(recipe: recipe, model: model, target: SliceTraining(model: model.transformer, slices: slices),
                  sequences: sequences, runDirectory: runDirectory)
    }

    var statePath: URL { runDirectory.appendingPathComponent("state.safetensors") }
    var metricsPath: URL { runDirectory.appendingPathComponent("metrics.jsonl") }

    /// A digest of everything that determines the trajectory, so a resume with other settings is refused.
    public func recipeDigest() throws -> String {
        var r = recipe
        r.checkpointEvery = 0 // checkpoint frequency does not change the numbers
        r.memoryBudget = Recipe.defaultMemoryBudget // nor does recomputation
        r.output = ""
        return SHA256Hasher.hex(Data((try r.yaml() + "\nsequences:\(sequences.count)").utf8))
    }

    /// Trains from the start, or from `RUN_DIR/state.safetensors` when `resume`.
    public func run(resume: Bool) throws -> RunSummary {
        let comm = communicator
        let writes = comm.isRoot
        let m = model.transformer
        let c = m.config
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let digest = try recipeDigest()
        let adam = AdamW(settings: recipe.optimizer, parameters: target.parameters)
        let parameterCount = target.parameterCount
        var startStep = 0
        var history = [StepMetrics]()
        if resume {
            guard FileManager.default.fileExists(atPath: statePath.path) else {
                throw TrainingError.checkpoint(path: statePath.path, reason: "no saved state in this run directory")
            }
            startStep = try RunState.load(from: statePath, optimizer: adam, baseFingerprint: model.fingerprint, recipeDigest: digest)
            target.commit()
            history = try readMetrics().filter { $0.step <= startStep }
            log("resuming at step \(startStep) of \(totalSteps)")
        }
        try checkRanksAgree(adam, step: startStep)
        if writes { try writeMetrics(history) } // drops lines of steps after the saved state

        let schedule = LearningRateSchedule(peak: recipe.optimizer.lr, totalSteps: totalSteps,
                                            warmupRatio: recipe.schedule.warmupRatio, cosine: recipe.schedule.decay == "cosine")
        let maxLen = sequences.map { $0.tokens.count - 1 }.max() ?? 1
        let T = max(1, maxLen)
        let budget = MemoryPlan.parseBudget(recipe.memoryBudget) ?? MemoryPlan.available
        let (stored, vectors) = MemoryPlan.weights(of: m)
        let optimizerBytes = target.stateBytes
        let full = TrainingWorkspace.bytes(config: c, maxTokens: T, recompute: false)
        let recompute = stored + vectors + full + optimizerBytes > budget
        let activations = recompute ? TrainingWorkspace.bytes(config: c, maxTokens: T, recompute: true) : full
        let plan = MemoryPlan(weights: stored, vectors: vectors, activations: activations, optimizer: optimizerBytes,
                              note: recompute ? String(format: "saving every layer (%.2f GB) would exceed the budget of %.2f GB: recomputing each layer in the backward pass",
                                                       Double(full) / 1e9, Double(budget) / 1e9)
                                              : String(format: "every layer's activations saved (budget %.2f GB)", Double(budget) / 1e9))
        log(plan.summary)
        let workspace = TrainingWorkspace(config: c, maxTokens: T, recompute: recompute)
        let gradBuffers = target.parameters.map(\.gradient.buffer)
        let metricsHandle = writes ? try FileHandle(forWritingTo: metricsPath) : nil
        defer { try? metricsHandle?.close() }
        try metricsHandle?.seekToEnd()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let t0 = Date()
        let sentBefore = comm.bytesSent, receivedBefore = comm.bytesReceived, collectivesBefore = comm.collectives
        var tokensDone = 0
        var step = startStep
        var interrupted = false
        var orderEpoch = -1
        var order = [Int]()
        while step < totalSteps {
            // Every rank stops at the same step, whichever of them saw the signal.
            if try comm.any(Interrupt.requested, what: "the interrupt flag before step \(step + 1)") { interrupted = true; break }
            let epoch = step / stepsPerEpoch
            if epoch != orderEpoch {
                order = TrainingData.order(count: sequences.count, seed: recipe.data.seed, epoch: epoch)
                orderEpoch = epoch
            }
            let first = (step % stepsPerEpoch) * perStep
            let batch = order[first..<min(order.count, first + perStep)].map { sequences[$0] }
            let predicted = batch.reduce(0) { $0 + $1.predicted }
            let stepStart = Date()
            target.zeroGradients()
            var nll = 0.0
            for s in batch[comm.share(of: batch.count)] {
                nll += try target.accumulate(tokens: s.inputs, targets: s.targets, gradientScale: 1 / Float(predicted), workspace: workspace)
            }
            if comm.isParallel {
                try comm.sumInRankOrder(gradBuffers, what: "the gradients of step \(step + 1)")
                nll = try comm.sumInRankOrder([nll], what: "the loss of step \(step + 1)")[0]
            }
            let norm = adam.clip()
            let lr = schedule.rate(step: step + 1)
            adam.update(lr: lr)
            target.commit()
            step += 1
            let dt = Date().timeIntervalSince(stepStart)
            let tokens = predicted
            tokensDone += tokens
            let record = StepMetrics(step: step, epoch: epoch + 1, loss: nll / Double(max(1, predicted)), lr: lr,
                                     gradNorm: norm, tokens: tokens, tokensPerS: Double(tokens) / dt, seconds: dt)
            history.append(record)
            metricsHandle?.write(try encoder.encode(record) + Data("\n".utf8))
            onStep(record, totalSteps)
            if recipe.checkpointEvery > 0 && step % recipe.checkpointEvery == 0 && step < totalSteps {
                try checkRanksAgree(adam, step: step)
                if writes {
                    try RunState.write(to: statePath, step: step, optimizer: adam, baseFingerprint: model.fingerprint, recipeDigest: digest)
                }
            }
        }
        if comm.isParallel && step > startStep {
            let n = Double(step - startStep)
            log(String(format: "mpi: %d ranks; per step this rank sent %.3f MB and received %.3f MB in %.1f collectives "
                       + "(%d trainable parameters as float32 = %.3f MB of gradients)",
                       comm.size, Double(comm.bytesSent - sentBefore) / n / 1e6, Double(comm.bytesReceived - receivedBefore) / n / 1e6,
                       Double(comm.collectives - collectivesBefore) / n, parameterCount, Double(parameterCount * 4) / 1e6))
        }
        try checkRanksAgree(adam, step: step)
        let elapsed = Date().timeIntervalSince(t0)
        var summary = RunSummary(steps: step, totalSteps: totalSteps, completed: !interrupted,
                                 firstLoss: history.first?.loss, lastLoss: history.last?.loss, tokens: tokensDone,
                                 seconds: elapsed, tokensPerS: Double(tokensDone) / max(elapsed, 1e-9),
                                 trainableParameters: parameterCount, peakRSSMB: Trainer.peakRSSMB())
        summary.loraRank = (target as? LoRATraining)?.adapters.rank
        guard writes else { return summary }
        try RunState.write(to: statePath, step: step, optimizer: adam, baseFingerprint: model.fingerprint, recipeDigest: digest)
        try AtomicFileWriter.write(Data(LossPlot.svg(history, title: "\(recipe.language) · \(recipe.model)").utf8),
                                   to: runDirectory.appendingPathComponent("loss.svg"))
        guard !interrupted else { return summary }
        var meta = deltaMetadata
        let last = history.last
        // Timings stay out of the result so that the same inputs give the same bytes.
        if let last {
            let final: [String: Any] = ["step": last.step, "loss": last.loss, "lr": last.lr, "grad_norm": last.gradNorm,
                                        "tokens": tokensTotal(history), "first_loss": history.first?.loss ?? last.loss]
            meta["final_metrics"] = String(decoding: try JSONSerialization.data(withJSONObject: final, options: [.sortedKeys]), as: UTF8.self)
        }
        // The run directory is where the result lives, not what it is: leave it out so that
        // the same recipe gives the same bytes wherever it runs.
        var recorded = recipe
        recorded.output = ""
        meta["recipe"] = try recorded.yaml()
        meta["steps"] = String(step)
        let result = try target.writeResult(in: runDirectory, baseFingerprint: model.fingerprint, metadata: meta)
        if target is LoRATraining { summary.adapterPath = result.path } else { summary.deltaPath = result.path }
        return summary
    }

    /// Ranks apply the same update to the same reduced gradient, so their parameters and moments
    /// must be bit-identical; compares a digest of them across ranks (nothing to do for one rank).
    func checkRanksAgree(_ adam: AdamW, step: Int) throws {
        guard communicator.isParallel else { return }
        var h = SHA256Hasher()
        for buffers in [adam.parameters.map(\.values), adam.m, adam.v] {
            for b in buffers { h.update(UnsafeRawBufferPointer(b.buffer)) }
        }
        let mine = h.finalizeHex()
        let all = try communicator.allgather(bytes: Array(mine.utf8), what: "the digest of the parameters after step \(step)")
        if Set(all).count > 1 {
            throw DistributedError.diverged(what: "trained parameters and AdamW moments after step \(step)",
                                            detail: all.enumerated().map { "rank \($0.offset): \(String(decoding: $0.element.prefix(12), as: UTF8.self))" }.joined(separator: ", "))
        }
    }

    func tokensTotal(_ h: [StepMetrics]) -> Int { h.reduce(0) { $0 + $1.tokens } }

    func readMetrics() throws -> [StepMetrics] {
        guard let data = FileManager.default.contents(atPath: metricsPath.path) else { return [] }
        let dec = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try dec.decode(StepMetrics.self, from: Data($0.utf8))
        }
    }

    func writeMetrics(_ records: [StepMetrics]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var data = Data()
        for r in records { data += try enc.encode(r) + Data("\n".utf8) }
        try AtomicFileWriter.write(data, to: metricsPath)
    }

    /// Peak resident memory of this process in MB (MiB, as getrusage reports it).
    public static func peakRSSMB() -> Double { Double(MemoryPlan.peakRSS) / 1_048_576 }
}
