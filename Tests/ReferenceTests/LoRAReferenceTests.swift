import Foundation
import Kernels
import ModelIO
import Models
import TestSupport
@testable import Training
import XCTest

/// The lora arm against PyTorch float64 with PEFT's LoRA on every tiny checkpoint
/// (`Fixtures/lora-tiny.json`, written by scripts/lora-reference.py): rank 2, alpha 4 on all seven
/// projections of every layer, A drawn by `LoRA.initialise` (the script draws the same values), B
/// from a formula both sides share. Checked: the mean NLL of reference text 0 (1e-4 absolute);
/// every adapted matrix's gradient of A and of B by its L2 norm and its dot with a fixed probe
/// vector, and layer 0's q_proj gradients whole (relative 1e-4; measured ≤ 4e-6); four steps of the
/// `Trainer` from PEFT's start (B = 0) against torch.optim.AdamW with clipping over the adapters
/// (1e-4 absolute, as the tiny slice trajectories; measured ≤ 3e-5).
final class LoRAReferenceTests: XCTestCase {
    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lora-tiny.json")

    func fixture() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtureURL)) as? [String: Any])
    }

    /// `((7o + 13k + 5·layer + 3·index) mod 17 − 8) / 400` as float32 (the script's `lora_b`).
    static func setB(_ ad: LoRAAdapters, config c: ModelConfig) {
        for l in 0..<c.layers {
            for (i, t) in ad.tensors.enumerated() {
                let b = ad.b[l][t]!, out = LoRAAdapters.dims(t, c).outDim, r = ad.rank
                for o in 0..<out { for k in 0..<r { b[o * r + k] = Float(Double((7 * o + 13 * k + 5 * l + 3 * i) % 17 - 8) / 400) } }
            }
        }
    }

    /// `((31 i + 7) mod 23 − 11) / 11` (the script's `probe`).
    static func probeDot(_ g: FloatBuffer) -> Double {
        (0..<g.count).reduce(0.0) { $0 + Double(g[$1]) * Double((31 * $1 + 7) % 23 - 11) / 11 }
    }

    static func norm(_ g: FloatBuffer) -> Double { (0..<g.count).reduce(0.0) { $0 + Double(g[$1]) * Double(g[$1]) }.squareRoot() }

    func check(_ arch: String) throws {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        let fx = try fixture()
        let ref = try XCTUnwrap((fx["archs"] as? [String: Any])?[arch] as? [String: Any])
        let rank = try XCTUnwrap(fx["rank"] as? Int), alpha = try XCTUnwrap(fx["alpha"] as? Double)
        let seed = UInt64(try XCTUnwrap(fx["seed"] as? Int))
        let tensors = try XCTUnwrap(fx["tensors"] as? [String]).compactMap(TrainableTensor.init(rawValue:))
        XCTAssertEqual(tensors, TrainableTensor.allCases, "the script's order is the adapters' order")
        let ids = try XCTUnwrap(ref["ids"] as? [Int]).map(Int32.init)
        let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst()), n = targets.count
        let model = try LoadedModel.load(at: SharedData.url("reference/tiny/\(arch)/model"))
        let c = model.config
        let ws = TrainingWorkspace(config: c, maxTokens: inputs.count)

        // Loss and gradients with a non-zero B.
        let lora = LoRATraining(model: model.transformer, tensors: tensors, rank: rank, alpha: Float(alpha), seed: seed)
        let ad = lora.adapters
        Self.setB(ad, config: c)
        lora.zeroGradients()
        let loss = try lora.accumulate(tokens: inputs, targets: targets, gradientScale: 1 / Float(n), workspace: ws) / Double(n)
        XCTAssertEqual(loss, try XCTUnwrap(ref["loss"] as? Double), accuracy: 1e-4, "\(arch) loss")
        var worstNorm = 0.0, worstProbe = 0.0
        let grads = try XCTUnwrap(ref["gradients"] as? [[String: Any]])
        XCTAssertEqual(grads.count, c.layers * tensors.count)
        for g in grads {
            let l = try XCTUnwrap(g["layer"] as? Int), t = try XCTUnwrap(TrainableTensor(rawValue: g["tensor"] as? String ?? ""))
            for (key, buf) in [("a", ad.dA[l][t]!), ("b", ad.dB[l][t]!)] {
                let rn = try XCTUnwrap(g[key + "_norm"] as? Double), rp = try XCTUnwrap(g[key + "_probe"] as? Double)
                let relNorm = abs(Self.norm(buf) - rn) / rn
                // The probe's scale: ‖g‖·‖p‖ (‖p‖ ≈ 0.6 √count).
                let relProbe = abs(Self.probeDot(buf) - rp) / (rn * 0.6 * Double(buf.count).squareRoot())
                worstNorm = max(worstNorm, relNorm); worstProbe = max(worstProbe, relProbe)
                XCTAssertGreaterThan(rn, 0, "\(arch) \(l) \(t) \(key): a gradient to check")
                XCTAssertLessThan(relNorm, 1e-4, "\(arch) layer \(l) \(t.rawValue) d\(key.uppercased()) norm")
                XCTAssertLessThan(relProbe, 1e-4, "\(arch) layer \(l) \(t.rawValue) d\(key.uppercased()) probe")
            }
        }
        let full = try XCTUnwrap((ref["full_gradients"] as? [String: [String: [Double]]])?["0.attn_q"])
        for (key, buf) in [("a", ad.dA[0][.attnQ]!), ("b", ad.dB[0][.attnQ]!)] {
            let r = try XCTUnwrap(full[key])
            XCTAssertEqual(r.count, buf.count)
            let diff = zip(r, buf.array).reduce(0.0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) }.squareRoot()
            let rel = diff / r.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertLessThan(rel, 1e-4, "\(arch) layer 0 q_proj d\(key.uppercased()) whole")
            print("\(arch): layer 0 q_proj d\(key.uppercased()) relative L2 \(String(format: "%.1e", rel))")
        }
        print("\(arch): loss \(loss) (ref \(ref["loss"]!)), worst gradient norm \(String(format: "%.1e", worstNorm)), probe \(String(format: "%.1e", worstProbe))")

        // Four steps of the trainer from PEFT's start.
        let train = try XCTUnwrap(fx["train"] as? [String: Any]), refLosses = try XCTUnwrap(ref["train_losses"] as? [Double])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-ref-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var recipe = Recipe(model: arch, language: "en", data: .init(train: "unused"), neurons: .init(), output: dir.path)
        recipe.lora = LoRASettings()
        recipe.optimizer.lr = try XCTUnwrap(train["lr"] as? Double)
        recipe.optimizer.betas = try XCTUnwrap(train["betas"] as? [Double])
        recipe.optimizer.eps = try XCTUnwrap(train["eps"] as? Double)
        recipe.optimizer.weightDecay = try XCTUnwrap(train["weight_decay"] as? Double)
        recipe.optimizer.clipGradNorm = try XCTUnwrap(train["clip_grad_norm"] as? Double)
        recipe.schedule.warmupRatio = 0
        recipe.schedule.decay = "constant"
        recipe.batch.size = 1
        recipe.batch.accumulation = 1
        recipe.epochs = try XCTUnwrap(train["steps"] as? Int)
        recipe.checkpointEvery = 0
        let fresh = LoRATraining(model: model.transformer, tensors: tensors, rank: rank, alpha: Float(alpha), seed: seed)
        let trainer = Trainer(recipe: recipe, model: model, target: fresh, sequences: [TrainingSequence(tokens: ids, document: 0)], runDirectory: dir)
        var losses = [Double]()
        trainer.onStep = { s, _ in losses.append(s.loss) }
        let summary = try trainer.run(resume: false)
        XCTAssertTrue(summary.completed)
        fresh.zeroGradients()
        losses.append(try fresh.accumulate(tokens: inputs, targets: targets, gradientScale: 1 / Float(n), workspace: ws) / Double(n))
        print("\(arch) lora training losses: ours \(losses.map { String(format: "%.5f", $0) }) ref \(refLosses.map { String(format: "%.5f", $0) })")
        XCTAssertEqual(losses.count, refLosses.count)
        for (a, b) in zip(losses, refLosses) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(arch) trajectory") }
        XCTAssertLessThan(losses.last!, losses.first! - 0.5, "the adapter learns the text")
    }

    func testLlama() throws { try check("llama") }
    func testMistral() throws { try check("mistral") }
    func testQwen2() throws { try check("qwen2") }
    func testQwen3() throws { try check("qwen3") }
    func testGemma3() throws { try check("gemma3") }
}
