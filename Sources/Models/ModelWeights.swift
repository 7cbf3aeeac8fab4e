import Foundation
import Kernels
import ModelIO

/// Float32 weights of one transformer block. Matrices are `[out, in]`, as stored.
public final class LayerWeights {
    public let attnNorm: FloatBuffer
    public let wq: FloatBuffer, wk: FloatBuffer, wv: FloatBuffer, wo: FloatBuffer
    public let qNorm: FloatBuffer?, kNorm: FloatBuffer?
    public let qBias: FloatBuffer?, kBias: FloatBuffer?, vBias: FloatBuffer?
    public let postAttentionNorm: FloatBuffer?
    public let ffnNorm: FloatBuffer
    public let wGate: FloatBuffer, wUp: FloatBuffer, wDown: FloatBuffer
    public let postFFNNorm: FloatBuffer?

    init(tensors t: [BlockTensor: FloatBuffer]) throws {
        func get(_ k: BlockTensor) throws -> FloatBuffer {
            guard let v = t[k] else { throw ModelError.missingTensor(path: "", tensor: k.ggufStem) }
            return v
        }
        attnNorm = try get(.attnNorm)
        wq = try get(.attnQ); wk = try get(.attnK); wv = try get(.attnV); wo = try get(.attnOutput)
        qNorm = t[.attnQNorm]; kNorm = t[.attnKNorm]
        qBias = t[.attnQBias]; kBias = t[.attnKBias]; vBias = t[.attnVBias]
        postAttentionNorm = t[.postAttentionNorm]
        ffnNorm = try get(.ffnNorm)
        wGate = try get(.ffnGate); wUp = try get(.ffnUp); wDown = try get(.ffnDown)
        postFFNNorm = t[.postFFNNorm]
    }

    /// The buffer holding a block tensor, if the architecture has it.
    public func tensor(_ k: BlockTensor) -> FloatBuffer? {
        switch k {
        case .attnNorm: return attnNorm
        case .attnQ: return wq
        case .attnK: return wk
        case .attnV: return wv
        case .attnOutput: return wo
        case .attnQNorm: return qNorm
        case .attnKNorm: return kNorm
        case .attnQBias: return qBias
        case .attnKBias: return kBias
        case .attnVBias: return vBias
        case .postAttentionNorm: return postAttentionNorm
        case .ffnNorm: return ffnNorm
        case .ffnGate: return wGate
        case .ffnUp: return wUp
        case .ffnDown: return wDown
        case .postFFNNorm: return postFFNNorm
        }
    }
}

/// All weights of a model in float32.
public final class ModelWeights {
    /// `[vocab, hidden]`.
    public let embedding: FloatBuffer
    public let outputNorm: FloatBuffer
    /// `[vocab, hidden]`; nil when the head is tied to the embedding.
    public let output: FloatBuffer?
    public let layers: [LayerWeights]

    /// The output head (the embedding when tied).
    public var head: FloatBuffer { output ?? embedding }

    /// Which block tensors an architecture needs.
    static func blockTensors(_ c: ModelConfig) -> [BlockTensor] {
        var list: [BlockTensor] = [.attnNorm, .attnQ, .attnK, .attnV, .attnOutput, .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
        if c.qkNorm { list += [.attnQNorm, .attnKNorm] }
        if c.qkvBias { list += [.attnQBias, .attnKBias, .attnVBias] }
        if c.sandwichNorms { list += [.postAttentionNorm, .postFFNNorm] }
        return list
    }

    static func expectedShape(_ k: BlockTensor, _ c: ModelConfig) -> [Int] {
        switch k {
        case .attnNorm, .ffnNorm, .postAttentionNorm, .postFFNNorm: return [c.hidden]
        case .attnQ: return [c.qDim, c.hidden]
        case .attnK, .attnV: return [c.kvDim, c.hidden]
        case .attnOutput: return [c.hidden, c.qDim]
        case .attnQNorm, .attnKNorm: return [c.headDim]
        case .attnQBias: return [c.qDim]
        case .attnKBias, .attnVBias: return [c.kvDim]
        case .ffnGate, .ffnUp: return [c.ffn, c.hidden]
        case .ffnDown: return [c.hidden, c.ffn]
        }
    }

    static func isNorm(_ k: BlockTensor) -> Bool {
        [.attnNorm, .ffnNorm, .postAttentionNorm, .postFFNNorm, .attnQNorm, .attnKNorm].contains(k)
    }

    /// Dequantises every tensor the configuration needs from `source`, in parallel.
    public init(config c: ModelConfig, source: TensorSource, path: String) throws {
        struct Job { let name: String; let shape: [Int]; let isNorm: Bool }
        var jobs = [Job]()
        jobs.append(Job(name: TensorNaming.embedding(c.format), shape: [c.vocabularySize, c.hidden], isNorm: false))
        jobs.append(Job(name: TensorNaming.outputNorm(c.format), shape: [c.hidden], isNorm: true))
        if !c.tiedEmbeddings {
            jobs.append(Job(name: TensorNaming.output(c.format), shape: [c.vocabularySize, c.hidden], isNorm: false))
        }
        let kinds = ModelWeights.blockTensors(c)
        for l in 0..<c.layers {
            for k in kinds {
                jobs.append(Job(name: TensorNaming.name(k, layer: l, format: c.format, architecture: c.architecture),
                                shape: ModelWeights.expectedShape(k, c), isNorm: ModelWeights.isNorm(k)))
            }
        }
        for j in jobs {
            guard let s = source.shape(of: j.name) else { throw ModelError.missingTensor(path: path, tensor: j.name) }
            // A 1-D norm may be stored as [n]; matrices must match exactly.
            guard s == j.shape else { throw ModelError.shapeMismatch(path: path, tensor: j.name, expected: j.shape, found: s) }
        }
        let buffers = jobs.map { FloatBuffer(count: $0.shape.reduce(1, *)) }
        var errors = [Error?](repeating: nil, count: jobs.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            do {
                try source.readFloats(jobs[i].name, into: buffers[i].buffer)
                if jobs[i].isNorm && c.normWeightOffset != 0 {
                    for e in 0..<buffers[i].count { buffers[i][e] += c.normWeightOffset }
                }
            } catch {
                lock.lock(); errors[i] = error; lock.unlock()
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        embedding = buffers[0]
        outputNorm = buffers[1]
        var next = 2
        if !c.tiedEmbeddings { output = buffers[2]; next = 3 } else { output = nil }
        var layerList = [LayerWeights]()
        for _ in 0..<c.layers {
            var t = [BlockTensor: FloatBuffer]()
            for k in kinds { t[k] = buffers[next]; next += 1 }
            layerList.append(try LayerWeights(tensors: t))
        }
        layers = layerList
    }
}
