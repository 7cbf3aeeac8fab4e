import Foundation
import Kernels
import ModelIO
import Models
import TestSupport
import Training
import XCTest

/// Five sparse AdamW steps against PyTorch float64 (manifest `train`): the loss before each step
/// and after the last within 1e-3 absolute (PyTorch float32 lands within 5e-5).
final class TrainingReferenceTests: XCTestCase {
    static func slices(from neurons: [String: [String: [Int]]], config: ModelConfig) -> TrainableSlices {
        var s = TrainableSlices(layers: config.layers)
        for (layer, structures) in neurons {
            guard let l = Int(layer) else { continue }
            s.set(layer: l, .attnQ, structures["attn_q"] ?? [])
            s.set(layer: l, .attnK, structures["attn_k"] ?? [])
            s.set(layer: l, .attnV, structures["attn_v"] ?? [])
            s.set(layer: l, .attnOutput, structures["attn_output"] ?? [])
            // an ffn neuron trains its up row and its down column (method §2, the authors' choice)
            s.set(layer: l, .ffnUp, structures["ffn"] ?? [])
            s.set(layer: l, .ffnDown, structures["ffn"] ?? [])
        }
        return s
    }

    static func run(manifest name: String, model m: Transformer) throws -> (ours: [Double], ref: [Double]) {
        let manifest = try SharedData.manifest(name)
        let train = try XCTUnwrap(manifest["train"] as? [String: Any])
        let forward = try XCTUnwrap(manifest["forward"] as? [[String: Any]])
        let ids = try XCTUnwrap(forward[try XCTUnwrap(train["text_index"] as? Int)]["ids"] as? [Int]).map(Int32.init)
        let neurons = try XCTUnwrap(train["neurons"] as? [String: [String: [Int]]])
        let opt = try XCTUnwrap(train["optimizer"] as? [String: Any])
        let ref = try XCTUnwrap(train["losses"] as? [Double])
        var settings = OptimizerSettings()
        settings.lr = try XCTUnwrap(opt["lr"] as? Double)
        settings.betas = try XCTUnwrap(opt["betas"] as? [Double])
        settings.eps = try XCTUnwrap(opt["eps"] as? Double)
        settings.weightDecay = try XCTUnwrap(opt["weight_decay"] as? Double)
        settings.clipGradNorm = try XCTUnwrap(opt["clip_grad_norm"] as? Double)
        let target = SliceTraining(model: m, slices: Self.slices(from: neurons, config: m.config))
        let adam = AdamW(settings: settings, parameters: target.parameters)
        defer { target.restore() } // leave the shared model as loaded
        let ws = TrainingWorkspace(config: m.config, maxTokens: ids.count)
        let targets = Array(ids.dropFirst()) + [-1]
        var losses = [Double]()
        for step in 0..<ref.count {
            target.zeroGradients()
            let nll = try target.accumulate(tokens: ids, targets: targets, gradientScale: 1 / Float(ids.count - 1), workspace: ws)
            losses.append(nll / Double(ids.count - 1))
            if step < ref.count - 1 {
                adam.clip()
                adam.update(lr: settings.lr)
                target.commit()
            }
        }
        return (losses, ref)
    }

    func check(_ name: String, _ file: String) throws {
        guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched") }
        let m = try ModelLoader.load(gguf: GGUFFile(url: url))
        let (ours, ref) = try Self.run(manifest: name, model: m)
        print("\(name) training losses: ours \(ours.map { String(format: "%.5f", $0) }) ref \(ref.map { String(format: "%.5f", $0) })")
        for (a, b) in zip(ours, ref) { XCTAssertEqual(a, b, accuracy: 1e-3, name) }
    }

    func testGemmaTrainingTrajectory() throws { try check("gemma3-270m", TestModels.gemmaFile) }
    func testSmolLMTrainingTrajectory() throws { try check("smollm2-135m", TestModels.smolFile) }
}
