import Foundation
import Kernels
import ModelIO
@testable import Models
import Training
import XCTest

/// The whole backward pass against central finite differences of the loss, on tiny random models
/// of every architecture built in memory (no files): sliding windows shorter than the text, GQA,
/// q/k/v biases, q/k norms, Gemma's sandwich norms, GeGLU, scaled embeddings, tied and untied heads,
/// both RoPE pairings. Float32 differences with step 1e-2 on a mean NLL: analytic and numeric
/// gradients of each trained tensor must agree within 2e-2 relative L2 (a wrong term gives O(1)).
final class ModelFiniteDifferenceTests: XCTestCase {
    func config(_ arch: Architecture, format: WeightFormat) -> ModelConfig { RandomModels.config(arch, format: format) }
    func randomModel(_ c: ModelConfig, seed: UInt64) throws -> Transformer { try RandomModels.model(c, seed: seed) }

    func check(_ arch: Architecture, format: WeightFormat) throws {
        let c = config(arch, format: format)
        let m = try randomModel(c, seed: 11)
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<10).map { _ in Int32(rng.next() % 40) }
        let inputs = Array(tokens.dropLast()), targets = Array(tokens.dropFirst())
        var slices = TrainableSlices(layers: c.layers)
        for l in 0..<c.layers {
            slices.set(layer: l, .attnQ, [1, 9, 30])
            slices.set(layer: l, .attnK, [0, 13])
            slices.set(layer: l, .attnV, [2, 7])
            slices.set(layer: l, .attnOutput, [3, 20])
            slices.set(layer: l, .ffnGate, [4, 17])
            slices.set(layer: l, .ffnUp, [5, 17])
            slices.set(layer: l, .ffnDown, [6, 23])
        }
        let grads = SliceBuffers(slices: slices, config: c)
        let ws = TrainingWorkspace(config: c, maxTokens: inputs.count)
        _ = try m.lossAndGradients(tokens: inputs, targets: targets, grads: grads, gradientScale: 1 / Float(targets.count), workspace: ws)
        func loss() throws -> Double {
            let g = SliceBuffers(slices: TrainableSlices(layers: c.layers), config: c)
            let (s, n) = try m.lossAndGradients(tokens: inputs, targets: targets, grads: g, gradientScale: 1, workspace: ws)
            return s / Double(n)
        }
        let values = SliceBuffers(slices: slices, config: c)
        SliceParameters.gather(m, into: values)
        let eps: Float = 1e-2
        var checked = 0
        var failure: Error?
        values.forEach { l, t, buf in
            guard failure == nil else { return }
            do {
                var num = 0.0, den = 0.0
                let g = grads.buffers[l][t]!
                // every 3rd element keeps the test fast while covering all slices of all tensors
                for i in stride(from: 0, to: buf.count, by: 3) {
                    let orig = buf[i]
                    buf[i] = orig + eps; SliceParameters.scatter(values, into: m); let fp = try loss()
                    buf[i] = orig - eps; SliceParameters.scatter(values, into: m); let fm = try loss()
                    buf[i] = orig; SliceParameters.scatter(values, into: m)
                    let fd = (fp - fm) / (2 * Double(eps))
                    num += (fd - Double(g[i])) * (fd - Double(g[i])); den += fd * fd
                }
                let rel = (num / max(den, 1e-20)).squareRoot()
                XCTAssertLessThan(rel, 2e-2, "\(arch) \(format) layer \(l) \(t.rawValue)")
                checked += 1
            } catch { failure = error }
        }
        if let failure { throw failure }
        XCTAssertEqual(checked, c.layers * TrainableTensor.allCases.count)
    }

    func testLlamaGGUF() throws { try check(.llama, format: .gguf) }
    func testLlamaHF() throws { try check(.llama, format: .huggingFace) }
    func testMistral() throws { try check(.mistral, format: .huggingFace) }
    func testQwen2() throws { try check(.qwen2, format: .huggingFace) }
    func testQwen3() throws { try check(.qwen3, format: .huggingFace) }
    func testGemma3GGUF() throws { try check(.gemma3, format: .gguf) }
    func testGemma3HF() throws { try check(.gemma3, format: .huggingFace) }

    /// Incremental decoding through the KV cache equals one prefill, for every architecture.
    func testKVCacheMatchesPrefill() throws {
        for arch in Architecture.allCases {
            let c = config(arch, format: .huggingFace)
            let m = try randomModel(c, seed: 3)
            let ids: [Int32] = [1, 5, 9, 2, 33, 7, 7, 12, 0, 39]
            let full = try m.score(ids)
            let chunked = try m.score(ids, chunk: 3)
            for (a, b) in zip(full.nll, chunked.nll) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(arch)") }
        }
    }

    /// Zeroing an FFN neuron through a mask equals zeroing its weights.
    func testMaskEqualsZeroedWeights() throws {
        let c = config(.llama, format: .huggingFace)
        let m = try randomModel(c, seed: 4)
        let ids: [Int32] = [3, 8, 1, 22, 5, 17]
        let masked = try m.score(ids, hooks: ForwardHooks(masks: [1: LayerMask(ffn: [5])]))
        // Column 5 of ffn_down set to zero through a column delta over the stored weight.
        let zeros = [Float](repeating: 0, count: c.hidden)
        m.weights.layers[1].wDown.ensureDelta(covering: [5]).setFull(units: [5], values: zeros)
        let zeroed = try m.score(ids)
        for (a, b) in zip(masked.nll, zeroed.nll) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertNotEqual(try m.score(ids, hooks: ForwardHooks(masks: [1: LayerMask(attnQ: [0, 1, 2])])).nll, zeroed.nll)
    }
}
