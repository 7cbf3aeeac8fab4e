import Foundation
import Kernels
import ModelIO
import Models
import TestSupport
import Training
import XCTest

/// Every architecture without a default model, against its tiny random checkpoint in
/// shared/reference/tiny (PyTorch float64): per-token NLL within 1e-3, residual norms within
/// 1e-3 relative, token ids equal, gradient slices within 3e-2 (median 1e-3), training losses
/// within 1e-3. These cover sharded safetensors, bf16/f16/f32, Llama 3 RoPE scaling, sliding
/// windows, q/k/v biases, q/k norms and both config.json key styles.
final class TinyArchitectureTests: XCTestCase {
    static let archs = ["llama", "mistral", "qwen2", "qwen3", "gemma3"]

    static func hfName(_ s: String) -> (Int, TrainableTensor)? {
        let p = s.split(separator: ".")
        guard p.count == 6, p[0] == "model", p[1] == "layers", let l = Int(p[2]) else { return nil }
        switch "\(p[3]).\(p[4])" {
        case "self_attn.q_proj": return (l, .attnQ)
        case "self_attn.k_proj": return (l, .attnK)
        case "self_attn.v_proj": return (l, .attnV)
        case "self_attn.o_proj": return (l, .attnOutput)
        case "mlp.gate_proj": return (l, .ffnGate)
        case "mlp.up_proj": return (l, .ffnUp)
        case "mlp.down_proj": return (l, .ffnDown)
        default: return nil
        }
    }

    func load(_ arch: String) throws -> LoadedModel {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        return try LoadedModel.load(at: SharedData.url("reference/tiny/\(arch)/model"))
    }

    func testForwardAndTokenizer() throws {
        for arch in Self.archs {
            let m = try load(arch)
            let manifest = try SharedData.manifest("tiny/\(arch)")
            XCTAssertEqual(m.config.layers, manifest["layers"] as? Int, arch)
            for entry in try XCTUnwrap(manifest["tokenizer"] as? [[String: Any]]) {
                let text = try XCTUnwrap(entry["text"] as? String)
                XCTAssertEqual(m.tokenizer.encode(text, addSpecialTokens: true).map(Int.init), entry["ids"] as? [Int], "\(arch) \(text)")
            }
            var worst = 0.0
            for f in try XCTUnwrap(manifest["forward"] as? [[String: Any]]) {
                let ids = try XCTUnwrap(f["ids"] as? [Int]).map(Int32.init)
                let ref = try XCTUnwrap(f["nll"] as? [Double])
                let d = m.config.hidden
                var norms = [Double](repeating: 0, count: m.config.layers + 1)
                let s = try m.transformer.score(ids, hooks: ForwardHooks(residual: { l, x, rows in
                    var acc = 0.0
                    for j in 0..<d { acc += Double(x[(rows - 1) * d + j]) * Double(x[(rows - 1) * d + j]) }
                    norms[l] = acc.squareRoot()
                }))
                for (a, b) in zip(s.nll, ref) { worst = max(worst, abs(Double(a) - b)) }
                for (l, rn) in (f["residual_norm_last_pos"] as? [Double] ?? []).enumerated() where l < norms.count {
                    XCTAssertEqual(norms[l], rn, accuracy: 1e-3 * rn, "\(arch) residual norm \(l)")
                }
            }
            print("tiny/\(arch): worst per-token NLL error \(worst)")
            XCTAssertLessThan(worst, 1e-3, arch)
        }
    }

    func testGradients() throws {
        for arch in Self.archs {
            let m = try load(arch)
            let manifest = try SharedData.manifest("tiny/\(arch)")
            let grad = try XCTUnwrap(manifest["grad"] as? [String: Any])
            let forward = try XCTUnwrap(manifest["forward"] as? [[String: Any]])
            let ids = try XCTUnwrap(forward[try XCTUnwrap(grad["text_index"] as? Int)]["ids"] as? [Int]).map(Int32.init)
            var slices = TrainableSlices(layers: m.config.layers)
            var listed = [(String, Int, TrainableTensor, [Int])]()
            for (tensor, spec) in try XCTUnwrap(grad["slices"] as? [String: [String: Any]]) {
                let (l, t) = try XCTUnwrap(Self.hfName(tensor), tensor)
                let idx = try XCTUnwrap(spec["indices"] as? [Int])
                slices.set(layer: l, t, idx)
                listed.append((tensor, l, t, idx))
            }
            let grads = SliceBuffers(slices: slices, config: m.config)
            _ = try m.transformer.lossAndGradients(tokens: ids, targets: Array(ids.dropFirst()) + [-1], grads: grads,
                                                   gradientScale: 1 / Float(ids.count - 1),
                                                   workspace: TrainingWorkspace(config: m.config, maxTokens: ids.count))
            let ref = try ReferenceTensors(url: SharedData.url("reference/tiny/\(arch)/tensors.safetensors"))
            var errors = [Double]()
            for (tensor, l, t, idx) in listed {
                let r = try ref.doubles("grad.\(tensor)")
                let d = t.sliceLength(m.config)
                let sorted = slices.indices(layer: l, t)
                let buf = try XCTUnwrap(grads.buffers[l][t])
                for (i, unit) in idx.enumerated() {
                    let j = try XCTUnwrap(sorted.firstIndex(of: unit))
                    let e = relativeL2((0..<d).map { Double(buf[j * d + $0]) }, Array(r[(i * d)..<((i + 1) * d)]))
                    errors.append(e)
                    XCTAssertLessThan(e, 3e-2, "\(arch) \(tensor) \(unit)")
                }
            }
            let median = errors.sorted()[errors.count / 2]
            print("tiny/\(arch): \(errors.count) gradient slices, worst \(errors.max()!), median \(median)")
            XCTAssertLessThan(median, 1e-3, arch)
        }
    }

    func testTrainingTrajectories() throws {
        for arch in Self.archs {
            let m = try load(arch)
            let (ours, ref) = try TrainingReferenceTests.run(manifest: "tiny/\(arch)", model: m.transformer)
            print("tiny/\(arch) losses ours \(ours.map { String(format: "%.4f", $0) }) ref \(ref.map { String(format: "%.4f", $0) })")
            for (a, b) in zip(ours, ref) { XCTAssertEqual(a, b, accuracy: 1e-3, arch) }
        }
    }
}
