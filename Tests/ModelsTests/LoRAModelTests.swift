import Foundation
import Kernels
import ModelIO
@testable import Models
import Training
import XCTest

/// LoRA adapters inside the training pass of tiny random models: gradients of A and B against
/// central finite differences of the loss (float32, step 1e-2, relative L2 within 2e-2 per matrix,
/// as the slice gradients are checked), the PEFT start (B = 0) leaves the loss unchanged, and the
/// adapters merged into the weights give the adapted loss.
final class LoRAModelTests: XCTestCase {
    let tensors = TrainableTensor.allCases

    func setUp(_ arch: Architecture, format: WeightFormat) throws -> (Transformer, LoRAAdapters, [Int32], [Int32], TrainingWorkspace) {
        let c = RandomModels.config(arch, format: format)
        let m = try RandomModels.model(c, seed: 11)
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<10).map { _ in Int32(rng.next() % 40) }
        let ad = LoRAAdapters(config: c, tensors: tensors, rank: 2, alpha: 4, seed: 9)
        // B is zero at the start (PEFT); a trained B is not, and its terms are what is checked.
        for l in 0..<c.layers { for t in tensors { let b = ad.b[l][t]!; for i in 0..<b.count { b[i] = Float(Int(rng.next() % 2001) - 1000) / 4000 } } }
        return (m, ad, Array(tokens.dropLast()), Array(tokens.dropFirst()), TrainingWorkspace(config: c, maxTokens: tokens.count - 1))
    }

    func meanLoss(_ m: Transformer, _ ad: LoRAAdapters?, _ x: [Int32], _ y: [Int32], _ ws: TrainingWorkspace) throws -> Double {
        let g = SliceBuffers(slices: TrainableSlices(layers: m.config.layers), config: m.config)
        let (s, n) = try m.lossAndGradients(tokens: x, targets: y, grads: g, gradientScale: 1, workspace: ws, adapters: ad)
        return s / Double(n)
    }

    func check(_ arch: Architecture, format: WeightFormat) throws {
        let (m, ad, x, y, ws) = try setUp(arch, format: format)
        let c = m.config
        ad.zeroGradients()
        let g = SliceBuffers(slices: TrainableSlices(layers: c.layers), config: c)
        _ = try m.lossAndGradients(tokens: x, targets: y, grads: g, gradientScale: 1 / Float(y.count), workspace: ws, adapters: ad)
        let analytic = (a: ad.dA.map { $0.mapValues(\.array) }, b: ad.dB.map { $0.mapValues(\.array) })
        let eps: Float = 1e-2
        for l in 0..<c.layers {
            for t in tensors {
                for (name, values, grad) in [("A", ad.a[l][t]!, analytic.a[l][t]!), ("B", ad.b[l][t]!, analytic.b[l][t]!)] {
                    var num = 0.0, den = 0.0
                    for i in stride(from: 0, to: values.count, by: 3) {
                        let orig = values[i]
                        values[i] = orig + eps; let fp = try meanLoss(m, ad, x, y, ws)
                        values[i] = orig - eps; let fm = try meanLoss(m, ad, x, y, ws)
                        values[i] = orig
                        let fd = (fp - fm) / (2 * Double(eps))
                        num += (fd - Double(grad[i])) * (fd - Double(grad[i])); den += fd * fd
                    }
                    XCTAssertGreaterThan(den, 0, "\(arch) layer \(l) \(t.rawValue) \(name): the gradient is not trivially zero")
                    XCTAssertLessThan((num / max(den, 1e-20)).squareRoot(), 2e-2, "\(arch) \(format) layer \(l) \(t.rawValue) \(name)")
                }
            }
        }
    }

    func testLlamaGGUF() throws { try check(.llama, format: .gguf) }
    func testQwen3() throws { try check(.qwen3, format: .huggingFace) }
    func testGemma3HF() throws { try check(.gemma3, format: .huggingFace) }

    func testZeroBLeavesTheLossAndMergingGivesTheAdaptedLoss() throws {
        let (m, ad, x, y, ws) = try setUp(.qwen2, format: .huggingFace)
        let c = m.config
        let base = try meanLoss(m, nil, x, y, ws)
        let fresh = LoRAAdapters(config: c, tensors: tensors, rank: 2, alpha: 4, seed: 9)
        XCTAssertEqual(try meanLoss(m, fresh, x, y, ws), base, accuracy: 1e-6, "PEFT start: B = 0")
        let adapted = try meanLoss(m, ad, x, y, ws)
        XCTAssertGreaterThan(abs(adapted - base), 1e-3, "the random B changes the loss")
        for l in 0..<c.layers {
            for t in tensors {
                let d = LoRAAdapters.dims(t, c)
                LoRA.merge(LoRAShape(inDim: d.inDim, outDim: d.outDim, rank: 2, alpha: 4), into: UnsafeMutablePointer(mutating: m.weights.layers[l].projection(t).weight.floats!),
                           a: ad.a[l][t]!.pointer, b: ad.b[l][t]!.pointer)
            }
        }
        XCTAssertEqual(try meanLoss(m, nil, x, y, ws), adapted, accuracy: 1e-5) // float32 rounding of the merged weights
        XCTAssertEqual(ad.parameterCount, LoRAAdapters.parametersPerRank(tensors, c) * 2)
    }

    /// The adapter a LoRA run writes (PEFT, Hugging Face layout) reads back to the trained factors
    /// exactly and, merged densely into the weights, gives the adapted loss; only the adapted
    /// matrices get a delta (over all their rows, or columns for ffn_down); merging with −1 takes it
    /// back exactly. On a Llama-architecture GGUF base the file's q/k rows are in Hugging Face order.
    func testAdapterFileRoundTripsAndMergesWithTheGGUFRowMapping() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-merge-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let adapted: [TrainableTensor] = [.attnQ, .attnK, .ffnDown]
        for (arch, format) in [(Architecture.llama, WeightFormat.gguf), (.qwen3, .huggingFace)] {
            let c = RandomModels.config(arch, format: format)
            let m = try RandomModels.model(c, seed: 11)
            var rng = SplitMix64(seed: 5)
            let tokens = (0..<10).map { _ in Int32(rng.next() % 40) }
            let x = Array(tokens.dropLast()), y = Array(tokens.dropFirst())
            let ws = TrainingWorkspace(config: c, maxTokens: x.count)
            let lora = LoRATraining(model: m, tensors: adapted, rank: 2, alpha: 4, seed: 9)
            let ad = lora.adapters
            for l in 0..<c.layers { for t in adapted { let b = ad.b[l][t]!; for i in 0..<b.count { b[i] = Float(Int(rng.next() % 2001) - 1000) / 4000 } } }
            let base = try meanLoss(m, nil, x, y, ws), withAdapters = try meanLoss(m, ad, x, y, ws)
            XCTAssertGreaterThan(abs(withAdapters - base), 1e-3)

            let out = dir.appendingPathComponent("\(arch)")
            let written = try lora.writeResult(in: out, baseFingerprint: "fp", metadata: ["language": "vi"])
            let read = try PEFTAdapter.read(directory: written, config: c, fingerprint: "fp")
            XCTAssertEqual(read.metadata["langneuron_language"], "vi")
            XCTAssertEqual(read.modules.count, c.layers * adapted.count)
            for mod in read.modules {
                let f = mod.factors
                XCTAssertEqual(f.a, ad.a[f.layer][f.tensor]!.array, "A read back exactly")
                XCTAssertEqual(f.b, ad.b[f.layer][f.tensor]!.array, "B read back exactly, in the stored layout")
                XCTAssertEqual(mod.scale, 2, "alpha / rank")
            }
            // In the file, Hugging Face row mapRow(o) holds stored row o.
            let file = try SafetensorsFile(url: written.appendingPathComponent(PEFTAdapter.weightsFile))
            let bq = try file.floatArray("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"), stored = ad.b[0][.attnQ]!
            for o in 0..<c.qDim {
                let row = AdapterExport.mapRow(o, tensor: .attnQ, config: c, to: .huggingFace)
                XCTAssertEqual(Array(bq[(row * 2)..<(row * 2 + 2)]), [stored[o * 2], stored[o * 2 + 1]])
            }
            XCTAssertEqual(bq != stored.array, format == .gguf, "rows move only for the GGUF Llama base")

            DeltaMerge.merge(read.modules, into: m, scale: 1)
            XCTAssertEqual(try meanLoss(m, nil, x, y, ws), withAdapters, accuracy: 1e-5, "\(arch): merged = adapted")
            for l in 0..<c.layers {
                for t in TrainableTensor.allCases {
                    let p = m.weights.layers[l].projection(t)
                    if adapted.contains(t) {
                        XCTAssertEqual(p.delta?.indices.count, t.isColumnSlice ? p.cols : p.rows, "a full delta on \(t)")
                    } else {
                        XCTAssertNil(p.delta, "no delta on \(t), which has no adapter")
                    }
                }
            }
            DeltaMerge.merge(read.modules, into: m, scale: -1)
            for l in 0..<c.layers { for t in adapted { XCTAssertTrue(m.weights.layers[l].projection(t).delta!.values.array.allSatisfy { $0 == 0 }) } }
            XCTAssertEqual(try meanLoss(m, nil, x, y, ws), base, accuracy: 1e-6, "\(arch): −1 takes the merge back")
            XCTAssertThrowsError(try PEFTAdapter.read(directory: written, config: c, fingerprint: "another")) { e in
                XCTAssertTrue(e.localizedDescription.contains("made for base model fp"), e.localizedDescription)
            }
        }
    }
}
