import Foundation
import Kernels
import ModelIO
@testable import Models
import Training
import XCTest

/// Random weights held in memory, served through `TensorSource`.
final class RandomTensors: TensorSource {
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    var tensorNames: [String] { tensors.keys.sorted() }
    func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    func storageType(of name: String) -> String? { tensors[name] == nil ? nil : "F32" }
    func readFloats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let t = tensors[name] else { throw ModelIOError.missingTensor(path: "memory", tensor: name) }
        for i in 0..<out.count { out[i] = t.values[i] }
    }
    func readFloats(_ name: String, rows: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let t = tensors[name] else { throw ModelIOError.missingTensor(path: "memory", tensor: name) }
        let len = t.shape.last ?? 1
        for i in 0..<out.count { out[i] = t.values[rows.lowerBound * len + i] }
    }
}

/// The whole backward pass against central finite differences of the loss, on tiny random models
/// of every architecture built in memory (no files): sliding windows shorter than the text, GQA,
/// q/k/v biases, q/k norms, Gemma's sandwich norms, GeGLU, scaled embeddings, tied and untied heads,
/// both RoPE pairings. Float32 differences with step 1e-2 on a mean NLL: analytic and numeric
/// gradients of each trained tensor must agree within 2e-2 relative L2 (a wrong term gives O(1)).
final class ModelFiniteDifferenceTests: XCTestCase {
    func config(_ arch: Architecture, format: WeightFormat) -> ModelConfig {
        let layers = 3
        let window = arch == .mistral || arch == .gemma3 ? 4 : 0
        let attention = (0..<layers).map { l -> LayerAttention in
            let sliding = arch == .gemma3 ? l != 2 : window > 0
            return LayerAttention(window: sliding ? window : 0, ropeBase: sliding && arch == .gemma3 ? 10000 : 500,
                                  ropeScaling: arch == .llama ? .llama3(factor: 4, lowFreqFactor: 1, highFreqFactor: 2, originalMaxPositions: 8) : .none)
        }
        return ModelConfig(architecture: arch, format: format, vocabularySize: 40, hidden: 16, layers: layers,
                           heads: 4, kvHeads: arch == .qwen2 ? 4 : 2, headDim: 8, ffn: 24, rmsEpsilon: 1e-6,
                           ropeStyle: format == .gguf && arch == .llama ? .interleaved : .halves,
                           layerAttention: attention, attentionScale: arch == .gemma3 ? 0.3 : 1 / Float(8).squareRoot(),
                           activation: arch == .gemma3 ? .gegluTanh : .swiglu,
                           qkNorm: arch == .qwen3 || arch == .gemma3, qkvBias: arch == .qwen2,
                           sandwichNorms: arch == .gemma3, normWeightOffset: arch == .gemma3 && format == .huggingFace ? 1 : 0,
                           embeddingScale: arch == .gemma3 ? 4 : 1, tiedEmbeddings: arch == .gemma3 || arch == .qwen3,
                           finalLogitSoftcap: nil)
    }

    func randomModel(_ c: ModelConfig, seed: UInt64) throws -> Transformer {
        var rng = SplitMix64(seed: seed)
        func rand(_ n: Int, scale: Float, offset: Float = 0) -> [Float] {
            (0..<n).map { _ in offset + scale * (Float(rng.nextUnit()) * 2 - 1) }
        }
        let src = RandomTensors()
        src.tensors[TensorNaming.embedding(c.format)] = ([c.vocabularySize, c.hidden], rand(c.vocabularySize * c.hidden, scale: 0.5))
        src.tensors[TensorNaming.outputNorm(c.format)] = ([c.hidden], rand(c.hidden, scale: 0.3, offset: 1))
        if !c.tiedEmbeddings {
            src.tensors[TensorNaming.output(c.format)] = ([c.vocabularySize, c.hidden], rand(c.vocabularySize * c.hidden, scale: 0.5))
        }
        for l in 0..<c.layers {
            for k in ModelWeights.blockTensors(c) {
                let shape = ModelWeights.expectedShape(k, c)
                let n = shape.reduce(1, *)
                let isNorm = ModelWeights.isNorm(k)
                src.tensors[TensorNaming.name(k, layer: l, format: c.format, architecture: c.architecture)] =
                    (shape, isNorm ? rand(n, scale: 0.3, offset: c.normWeightOffset == 1 ? 0 : 1) : rand(n, scale: 0.6))
            }
        }
        return Transformer(config: c, weights: try ModelWeights(config: c, source: src, path: "memory"))
    }

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
        let w = m.weights.layers[1].wDown
        for r in 0..<c.hidden { w[r * c.ffn + 5] = 0 }
        let zeroed = try m.score(ids)
        for (a, b) in zip(masked.nll, zeroed.nll) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertNotEqual(try m.score(ids, hooks: ForwardHooks(masks: [1: LayerMask(attnQ: [0, 1, 2])])).nll, zeroed.nll)
    }
}
