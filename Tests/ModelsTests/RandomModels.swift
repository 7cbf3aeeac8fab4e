import Foundation
import ModelIO
@testable import Models

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

/// Tiny random models of every architecture, built in memory (3 layers, hidden 16, vocabulary 40):
/// sliding windows shorter than the texts, GQA, biases, q/k norms, Gemma's sandwich norms, GeGLU,
/// scaled embeddings, tied and untied heads, both RoPE pairings.
enum RandomModels {
    static func config(_ arch: Architecture, format: WeightFormat) -> ModelConfig {
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

    static func model(_ c: ModelConfig, seed: UInt64) throws -> Transformer {
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
}
