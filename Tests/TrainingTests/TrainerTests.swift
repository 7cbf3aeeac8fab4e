import Foundation
import Kernels
import ModelIO
import Models
import TestSupport
import Tokenizers
import Training
import XCTest

/// Runs, resumes, determinism and the delta file, on the tiny random Llama checkpoint.
final class TrainerTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        Interrupt.reset()
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
        Interrupt.reset()
    }

    func loadTiny() throws -> LoadedModel { try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model")) }

    static func tinyConfig() throws -> ModelConfig {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        return try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model")).config
    }

    func recipe(output: URL) -> Recipe {
        var r = Recipe(model: "tiny", language: "en", data: .init(train: "unused"), neurons: .init(file: "unused"), output: output.path)
        r.data.seqLen = 12
        r.batch.size = 2
        r.batch.accumulation = 2
        r.optimizer.lr = 1e-2
        r.checkpointEvery = 2
        r.epochs = 2
        return r
    }

    let documents = [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Hà Nội là thủ đô của Việt Nam, nằm bên bờ sông Hồng.",
        "A second English sentence, with punctuation; and more words to fill a window.",
        "東京は日本の首都です。",
        "Numbers like 1886 and 3.14159 appear in text too.",
    ]

    func slices(_ c: ModelConfig) -> TrainableSlices {
        NeuronSelection.slices(neurons: [0: ["attn_q": [1, 5], "attn_v": [3], "ffn": [2, 7, 40]], 2: ["attn_k": [0, 9], "attn_output": [4], "ffn": [11]]],
                               trainable: TrainableTensor.allCases, config: c)
    }

    func train(output: URL, interruptAt: Int? = nil, resume: Bool = false) throws -> RunSummary {
        let m = try loadTiny()
        let seqs = TrainingData.sequences(documents: documents, tokenizer: m.tokenizer, seqLen: 12)
        let t = Trainer(recipe: recipe(output: output), model: m, slices: slices(m.config), sequences: seqs, runDirectory: output)
        if let k = interruptAt { t.onStep = { s, _ in if s.step == k { Interrupt.request() } } }
        defer { Interrupt.reset() }
        return try t.run(resume: resume)
    }

    /// A LoRA run (rank 3 on q/v/down of every layer) through the same trainer.
    func trainLoRA(output: URL, interruptAt: Int? = nil, resume: Bool = false, seed: UInt64 = 1) throws -> RunSummary {
        let m = try loadTiny()
        let seqs = TrainingData.sequences(documents: documents, tokenizer: m.tokenizer, seqLen: 12)
        var r = recipe(output: output)
        r.lora = LoRASettings()
        r.lora?.rank = .fixed(3)
        r.lora?.seed = seed
        let target = LoRATraining(model: m.transformer, tensors: [.attnQ, .attnV, .ffnDown], rank: 3, alpha: 16, seed: seed)
        let t = Trainer(recipe: r, model: m, target: target, sequences: seqs, runDirectory: output)
        if let k = interruptAt { t.onStep = { s, _ in if s.step == k { Interrupt.request() } } }
        defer { Interrupt.reset() }
        return try t.run(resume: resume)
    }

    /// Same seed, same adapter bytes; an interrupted LoRA run resumed from its state (A, B and both
    /// AdamW moments) ends with the uninterrupted run's adapter and metrics.
    func testLoRARunIsDeterministicAndResumesExactly() throws {
        let a = tmp.appendingPathComponent("a"), b = tmp.appendingPathComponent("b")
        let sa = try trainLoRA(output: a)
        XCTAssertTrue(sa.completed)
        XCTAssertEqual(sa.loraRank, 3)
        XCTAssertNil(sa.deltaPath)
        let adapter = try XCTUnwrap(sa.adapterPath)
        let tiny = try loadTiny().config
        XCTAssertEqual(sa.trainableParameters, 3 * tiny.layers * ((tiny.hidden + tiny.qDim) + (tiny.hidden + tiny.kvDim) + (tiny.ffn + tiny.hidden)))
        XCTAssertLessThan(try XCTUnwrap(sa.lastLoss), try XCTUnwrap(sa.firstLoss), "training lowers the loss")
        let weights = URL(fileURLWithPath: adapter).appendingPathComponent(PEFTAdapter.weightsFile)
        _ = try trainLoRA(output: b)
        XCTAssertEqual(try Data(contentsOf: weights), try Data(contentsOf: b.appendingPathComponent("adapter/adapter_model.safetensors")))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: adapter).appendingPathComponent(PEFTAdapter.configFile)),
                       try Data(contentsOf: b.appendingPathComponent("adapter/adapter_config.json")))
        _ = try trainLoRA(output: b.appendingPathComponent("other"), seed: 2)
        XCTAssertNotEqual(try Data(contentsOf: weights), try Data(contentsOf: b.appendingPathComponent("other/adapter/adapter_model.safetensors")),
                          "another seed draws another A")

        try assertResumesExactly(result: "adapter/adapter_model.safetensors") { try trainLoRA(output: $0, interruptAt: $1, resume: $2) }

        // The adapter merged into a fresh model gives the trained model's loss.
        let ids: [Int32] = try loadTiny().tokenizer.encode(documents[0], addSpecialTokens: true)
        let base = try loadTiny(), merged = try loadTiny()
        try DeltaMerge.apply([ScaledDelta(path: adapter, scale: 1)], to: merged)
        let before = try base.transformer.score(ids).meanNLL, after = try merged.transformer.score(ids).meanNLL
        XCTAssertLessThan(after, before, "the adapter fits its training text better")
        try DeltaMerge.apply([ScaledDelta(path: adapter, scale: 1)], to: merged, subtract: true)
        XCTAssertEqual(try merged.transformer.score(ids).meanNLL, before, accuracy: 1e-6, "subtracting reverts")
    }

    func testSameSeedGivesBitIdenticalDelta() throws {
        let a = tmp.appendingPathComponent("a"), b = tmp.appendingPathComponent("b")
        let sa = try train(output: a), sb = try train(output: b)
        XCTAssertTrue(sa.completed)
        XCTAssertGreaterThan(sa.steps, 4)
        XCTAssertLessThan(try XCTUnwrap(sa.lastLoss), try XCTUnwrap(sa.firstLoss), "training lowers the loss")
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("delta.safetensors")),
                       try Data(contentsOf: b.appendingPathComponent("delta.safetensors")))
        XCTAssertEqual(sb.steps, sa.steps)
        let svg = try String(contentsOf: a.appendingPathComponent("loss.svg"))
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<polyline"), "a loss curve is drawn")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "loss and learning rate")
    }

    /// Trains into `full` uninterrupted and into `cut` interrupted after step 3 then resumed; the
    /// result file `result` and the metrics (all but timings) must agree.
    func assertResumesExactly(result: String, _ train: (URL, Int?, Bool) throws -> RunSummary) throws {
        let full = tmp.appendingPathComponent("full-\(result)"), cut = tmp.appendingPathComponent("cut-\(result)")
        let s = try train(full, nil, false)
        let partial = try train(cut, 3, false)
        XCTAssertFalse(partial.completed)
        XCTAssertEqual(partial.steps, 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cut.appendingPathComponent(result).path))
        let resumed = try train(cut, nil, true)
        XCTAssertTrue(resumed.completed)
        XCTAssertEqual(resumed.steps, s.steps)
        XCTAssertEqual(try Data(contentsOf: full.appendingPathComponent(result)), try Data(contentsOf: cut.appendingPathComponent(result)),
                       "a resumed run's \(result) equals the uninterrupted run's")
        func steps(_ u: URL) throws -> [String] {
            // seconds and tokens/s differ run to run; everything else must agree
            try String(contentsOf: u.appendingPathComponent("metrics.jsonl")).split(separator: "\n").map { line in
                let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return "\(o["step"]!) \(o["loss"]!) \(o["lr"]!) \(o["grad_norm"]!)"
            }
        }
        XCTAssertEqual(try steps(full), try steps(cut))
    }

    func testInterruptedRunResumesExactly() throws {
        try assertResumesExactly(result: "delta.safetensors") { try train(output: $0, interruptAt: $1, resume: $2) }
    }

    func testDeltaRoundTripMergeAndRevert() throws {
        let out = tmp.appendingPathComponent("run")
        _ = try train(output: out)
        let base = try loadTiny()
        let trained = try loadTiny()
        let delta = try DeltaFile.read(url: out.appendingPathComponent("delta.safetensors"), config: base.config)
        XCTAssertEqual(delta.baseFingerprint, base.fingerprint)
        XCTAssertEqual(Set(delta.entries.map(\.tensor)), Set(TrainableTensor.allCases))
        try delta.apply(to: trained.transformer, fingerprint: trained.fingerprint, path: "delta")
        // merged weights differ from base exactly on the listed rows/columns
        let wq0 = base.transformer.weights.layers[0].wq.effectiveFloats(), wq1 = trained.transformer.weights.layers[0].wq.effectiveFloats()
        let d = base.config.hidden
        for r in 0..<base.config.qDim {
            let changed = (0..<d).contains { wq0[r * d + $0] != wq1[r * d + $0] }
            XCTAssertEqual(changed, [1, 5].contains(r), "row \(r)")
        }
        let ids: [Int32] = base.tokenizer.encode(documents[0], addSpecialTokens: true)
        let before = try base.transformer.score(ids).meanNLL, after = try trained.transformer.score(ids).meanNLL
        XCTAssertLessThan(after, before, "the trained delta fits its training text better")
        try delta.apply(to: trained.transformer, fingerprint: trained.fingerprint, scale: -1, path: "delta")
        XCTAssertEqual(try trained.transformer.score(ids).meanNLL, before, accuracy: 1e-5, "subtracting reverts")
        XCTAssertThrowsError(try delta.apply(to: trained.transformer, fingerprint: "deadbeef", path: "delta.safetensors")) { e in
            XCTAssertTrue(e.localizedDescription.contains("delta.safetensors"))
        }
    }

    func testCorruptOrTruncatedDeltaIsRejected() throws {
        let out = tmp.appendingPathComponent("run")
        _ = try train(output: out)
        let m = try loadTiny()
        let good = try Data(contentsOf: out.appendingPathComponent("delta.safetensors"))
        let bad = tmp.appendingPathComponent("bad.safetensors")
        for broken in [good.prefix(good.count - 100), good.prefix(5), Data("not a delta at all".utf8)] {
            try broken.write(to: bad)
            XCTAssertThrowsError(try DeltaFile.read(url: bad, config: m.config)) { e in
                XCTAssertTrue(e.localizedDescription.contains(bad.path), e.localizedDescription)
            }
        }
        // a well-formed safetensors file that is not a delta
        try SafetensorsWriter.write(tensors: [.init(name: "x", shape: [1], floats: [1])], metadata: ["format": "pt"], to: bad)
        XCTAssertThrowsError(try DeltaFile.read(url: bad, config: m.config)) { e in
            XCTAssertTrue(e.localizedDescription.contains("langneuron.delta/1"), e.localizedDescription)
        }
    }

    func testResumeRefusesChangedRecipe() throws {
        let out = tmp.appendingPathComponent("run")
        _ = try train(output: out, interruptAt: 2)
        let m = try loadTiny()
        var r = recipe(output: out)
        r.optimizer.lr = 5e-3
        let t = Trainer(recipe: r, model: m, slices: slices(m.config),
                        sequences: TrainingData.sequences(documents: documents, tokenizer: m.tokenizer, seqLen: 12), runDirectory: out)
        XCTAssertThrowsError(try t.run(resume: true)) { e in XCTAssertTrue(e.localizedDescription.contains("different recipe"), "\(e)") }
    }
}

final class RecipeTests: XCTestCase {
    let yaml = """
    model: gemma3-270m
    language: vi
    data: {train: wiki-vi, documents: 400, heldout: 50, seq_len: 512, seed: 1}
    neurons: {file: neurons/vi.json}
    trainable: [attn_q, attn_k, attn_v, ffn_up, ffn_down]
    optimizer: {lr: 2.0e-6, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.0, clip_grad_norm: 0.3}
    schedule: {warmup_ratio: 0.05, decay: cosine}
    batch: {size: 8, accumulation: 4}
    epochs: 1
    output: checkpoints/vi-gemma3-270m
    """

    func testParsesTheIssueRecipeAndOverrides() throws {
        let r = try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["optimizer.lr=1e-5", "batch.size=2", "neurons.random.match=a.json", "neurons.file=null"])
        XCTAssertEqual(r.optimizer.lr, 1e-5)
        XCTAssertEqual(r.batch.size, 2)
        XCTAssertEqual(r.batch.accumulation, 4)
        XCTAssertEqual(r.data.seqLen, 512)
        XCTAssertEqual(r.neurons.random?.match, "a.json")
        XCTAssertNil(r.neurons.file)
        XCTAssertEqual(try r.trainableTensors(path: ""), [.attnQ, .attnK, .attnV, .ffnUp, .ffnDown])
    }

    func testUnknownKeysAreErrors() {
        for (bad, key) in [("optimizer: {lr: 1, momentum: 0.9}", "momentum"), ("data: {train: x, seqlen: 3}", "seqlen"), ("colour: blue", "colour")] {
            let text = yaml.split(separator: "\n").filter { !$0.hasPrefix(String(bad.prefix(while: { $0 != ":" })) + ":") }.joined(separator: "\n") + "\n" + bad
            XCTAssertThrowsError(try Recipe.parse(yaml: text, path: "r.yaml")) { e in
                XCTAssertTrue(e.localizedDescription.contains("'\(key)'"), e.localizedDescription)
            }
        }
    }

    /// `lora:` declares its keys once with defaults; rank auto needs neurons to match, a fixed rank does not.
    func testLoRABlock() throws {
        let r = try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["lora.rank=auto"])
        XCTAssertEqual(r.lora, LoRASettings())
        XCTAssertEqual(r.lora?.alpha, 16)
        XCTAssertNil(try Recipe.parse(yaml: yaml, path: "r.yaml").lora, "no lora block: neuron training")
        let fixed = try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["lora={rank: 8, alpha: 32, seed: 3}", "neurons.file=null"])
        XCTAssertEqual(fixed.lora?.rank, .fixed(8))
        XCTAssertEqual(fixed.lora?.alpha, 32)
        XCTAssertEqual(fixed.lora?.seed, 3)
        XCTAssertTrue(try fixed.yaml().contains("rank: 8"), "written back as it was given")
        XCTAssertEqual(try Recipe.parse(yaml: try fixed.yaml(), path: "again").lora, fixed.lora)
        for (o, field) in [(["lora.rank=auto", "neurons.file=null"], "neurons"), (["lora.rank=0"], "lora.rank"),
                           (["lora.alpha=0"], "lora.alpha"), (["lora.rank=two"], "lora"), (["lora.dropout=0.1"], "dropout")] {
            XCTAssertThrowsError(try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: o), "\(o)") { e in
                XCTAssertTrue(e.localizedDescription.contains(field), e.localizedDescription)
            }
        }
        // rank auto: the rank whose parameters on the same matrices are closest to the neurons'.
        var c = try TrainerTests.tinyConfig()  // shaped as Gemma 3 270M
        (c.hidden, c.layers, c.heads, c.kvHeads, c.headDim, c.ffn) = (640, 18, 4, 1, 256, 2048)
        let tensors: [TrainableTensor] = [.attnQ, .attnK, .attnV, .ffnUp, .ffnDown]
        XCTAssertEqual(LoRAAdapters.parametersPerRank(tensors, c), 18 * (1664 + 896 + 896 + 2688 + 2688))
        XCTAssertEqual(LoRASettings().resolvedRank(tensors: tensors, config: c, matching: 476_160), 3, "the quick experiment's language arm")
        XCTAssertNil(LoRASettings().resolvedRank(tensors: tensors, config: c, matching: nil))
        XCTAssertEqual(fixed.lora?.resolvedRank(tensors: tensors, config: c, matching: nil), 8)
    }

    func testInvalidValuesAndOverrides() {
        XCTAssertThrowsError(try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["schedule.decay=linear"])) { e in
            XCTAssertTrue(e.localizedDescription.contains("schedule.decay"))
        }
        XCTAssertThrowsError(try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["trainable=[attn_x]"])) { e in
            XCTAssertTrue(e.localizedDescription.contains("attn_x"))
        }
        XCTAssertThrowsError(try Recipe.parse(yaml: yaml, path: "r.yaml", overrides: ["optimizer.lr"])) { e in
            XCTAssertTrue(e.localizedDescription.contains("missing '='"))
        }
        XCTAssertThrowsError(try Recipe.parse(yaml: "model: x\n", path: "r.yaml")) { e in
            XCTAssertTrue(e.localizedDescription.contains("language"), e.localizedDescription)
        }
    }

    func testScheduleMatchesWarmupCosine() {
        let s = LearningRateSchedule(peak: 1, totalSteps: 20, warmupRatio: 0.1, cosine: true)
        XCTAssertEqual(s.warmupSteps, 2)
        XCTAssertEqual(s.rate(step: 1), 0)
        XCTAssertEqual(s.rate(step: 2), 0.5)
        XCTAssertEqual(s.rate(step: 3), 1)
        XCTAssertEqual(s.rate(step: 12), 0.5 * (1 + cos(Double.pi * 9 / 18)), accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule(peak: 2, totalSteps: 5, warmupRatio: 0, cosine: false).rate(step: 5), 2)
    }

    func testWindowsPredictEveryTokenOnce() throws {
        final class Fake: Tokenizer {
            var vocabularySize: Int { 100 }
            var bosTokenID: Int32? { 1 }
            var eosTokenID: Int32? { nil }
            func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] { [1] + text.split(separator: " ").map { Int32($0)! } }
            func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String { "" }
            func token(_ id: Int32) -> String { "" }
            func decodedPiece(_ id: Int32) -> String { "" }
        }
        let seqs = TrainingData.sequences(documents: ["10 11 12 13 14 15 16", "20"], tokenizer: Fake(), seqLen: 3)
        XCTAssertEqual(seqs.map(\.tokens), [[1, 10, 11, 12], [12, 13, 14, 15], [15, 16], [1, 20]])
        XCTAssertEqual(seqs.reduce(0) { $0 + $1.predicted }, 7 + 1)
        XCTAssertEqual(TrainingData.order(count: 10, seed: 3, epoch: 0), TrainingData.order(count: 10, seed: 3, epoch: 0))
        XCTAssertNotEqual(TrainingData.order(count: 10, seed: 3, epoch: 0), TrainingData.order(count: 10, seed: 3, epoch: 1))
    }
}
