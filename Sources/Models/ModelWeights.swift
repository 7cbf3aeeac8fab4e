import Foundation
import Kernels
import ModelIO

/// Weights of one transformer block. Matrices are `[out, in]`, as stored, and stay in their
/// stored type (see `WeightMatrix`); norms and biases (a few thousand values) are float32.
public final class LayerWeights {
    public let attnNorm: FloatBuffer
    public let wq: Projection, wk: Projection, wv: Projection, wo: Projection
    public let qNorm: FloatBuffer?, kNorm: FloatBuffer?
    public let qBias: FloatBuffer?, kBias: FloatBuffer?, vBias: FloatBuffer?
    public let postAttentionNorm: FloatBuffer?
    public let ffnNorm: FloatBuffer
    public let wGate: Projection, wUp: Projection, wDown: Projection
    public let postFFNNorm: FloatBuffer?

    init(vectors v: [BlockTensor: FloatBuffer], matrices m: [BlockTensor: WeightMatrix]) throws {
        func vec(_ k: BlockTensor) throws -> FloatBuffer {
            guard let x = v[k] else { throw ModelError.missingTensor(path: "", tensor: k.ggufStem) }
            return x
        }
        func mat(_ k: BlockTensor, _ t: TrainableTensor) throws -> Projection {
            guard let x = m[k] else { throw ModelError.missingTensor(path: "", tensor: k.ggufStem) }
            return Projection(weight: x, kind: t)
        }
        attnNorm = try vec(.attnNorm)
        wq = try mat(.attnQ, .attnQ); wk = try mat(.attnK, .attnK); wv = try mat(.attnV, .attnV); wo = try mat(.attnOutput, .attnOutput)
        qNorm = v[.attnQNorm]; kNorm = v[.attnKNorm]
        qBias = v[.attnQBias]; kBias = v[.attnKBias]; vBias = v[.attnVBias]
        postAttentionNorm = v[.postAttentionNorm]
        ffnNorm = try vec(.ffnNorm)
        wGate = try mat(.ffnGate, .ffnGate); wUp = try mat(.ffnUp, .ffnUp); wDown = try mat(.ffnDown, .ffnDown)
        postFFNNorm = v[.postFFNNorm]
    }

    /// The projection of a trainable tensor.
    public func projection(_ t: TrainableTensor) -> Projection {
        switch t {
        case .attnQ: return wq
        case .attnK: return wk
        case .attnV: return wv
        case .attnOutput: return wo
        case .ffnGate: return wGate
        case .ffnUp: return wUp
        case .ffnDown: return wDown
        }
    }

    /// All projections of the block.
    public var projections: [Projection] { [wq, wk, wv, wo, wGate, wUp, wDown] }

    /// A norm or bias vector, if the architecture has it.
    public func vector(_ k: BlockTensor) -> FloatBuffer? {
        switch k {
        case .attnNorm: return attnNorm
        case .attnQNorm: return qNorm
        case .attnKNorm: return kNorm
        case .attnQBias: return qBias
        case .attnKBias: return kBias
        case .attnVBias: return vBias
        case .postAttentionNorm: return postAttentionNorm
        case .ffnNorm: return ffnNorm
        case .postFFNNorm: return postFFNNorm
        case .attnQ, .attnK, .attnV, .attnOutput, .ffnGate, .ffnUp, .ffnDown: return nil
        }
    }

    /// Number of weight parameters of the block.
    public var parameterCount: Int {
        projections.reduce(0) { $0 + $1.rows * $1.cols }
            + BlockTensor.allCases.reduce(0) { $0 + (vector($1)?.count ?? 0) }
    }
}

/// All weights of a model: matrices in their stored type (memory-mapped when the source is a
/// file), norms and biases in float32.
public final class ModelWeights {
    /// `[vocab, hidden]`; lookups dequantise only the rows they need.
    public let embedding: WeightMatrix
    public let outputNorm: FloatBuffer
    /// `[vocab, hidden]`; nil when the head is tied to the embedding.
    public let output: WeightMatrix?
    public let layers: [LayerWeights]

    /// The output head (the embedding when tied).
    public var head: WeightMatrix { output ?? embedding }

    /// Bytes of the stored matrices (what stays mapped), and of the float32 vectors.
    public var storedMatrixBytes: Int {
        layers.reduce(0) { $0 + $1.projections.reduce(0) { $0 + $1.weight.storedBytes } }
            + embedding.storedBytes + (output?.storedBytes ?? 0)
    }

    /// Bytes one decoding step reads: every block matrix and the head (an untied embedding
    /// contributes one row per token, counted as nothing).
    public var decodeStepBytes: Int {
        layers.reduce(0) { $0 + $1.projections.reduce(0) { $0 + $1.weight.storedBytes } } + head.storedBytes
    }

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


    /// Reads the weights `config` needs from `source`. Matrices of a `StoredTensorSource` (GGUF,
    /// safetensors) are used in place in their stored type; other sources (in-memory tensors)
    /// are read as float32. Norms and biases are read as float32.
    public init(config c: ModelConfig, source: TensorSource, path: String) throws {
        let stored = source as? StoredTensorSource
        func check(_ name: String, _ shape: [Int]) throws {
            guard let s = source.shape(of: name) else { throw ModelError.missingTensor(path: path, tensor: name) }
            guard s == shape else { throw ModelError.shapeMismatch(path: path, tensor: name, expected: shape, found: s) }
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            try check(name, [rows, cols])
            if let st = stored?.storedTensor(name) {
                guard let base = st.bytes.baseAddress,
                      let m = WeightMatrix(rows: rows, cols: cols, typeCode: st.type.rawValue, typeName: st.type.description,
                                           data: base, byteCount: st.bytes.count, owner: st.owner) else {
                    throw ModelIOError.unsupportedTensorType(path: path, tensor: name, type: st.type.description)
                }
                return m
            }
            let buf = FloatBuffer(count: rows * cols)
            try source.readFloats(name, into: buf.buffer)
            return WeightMatrix(floats: buf, rows: rows, cols: cols)
        }
        func vector(_ name: String, count: Int, isNorm: Bool) throws -> FloatBuffer {
            try check(name, [count])
            let buf = FloatBuffer(count: count)
            try source.readFloats(name, into: buf.buffer)
            if isNorm && c.normWeightOffset != 0 { for e in 0..<count { buf[e] += c.normWeightOffset } }
            return buf
        }
        embedding = try matrix(TensorNaming.embedding(c.format), rows: c.vocabularySize, cols: c.hidden)
        outputNorm = try vector(TensorNaming.outputNorm(c.format), count: c.hidden, isNorm: true)
        output = c.tiedEmbeddings ? nil : try matrix(TensorNaming.output(c.format), rows: c.vocabularySize, cols: c.hidden)
        var list = [LayerWeights]()
        for l in 0..<c.layers {
            var vectors = [BlockTensor: FloatBuffer](), matrices = [BlockTensor: WeightMatrix]()
            for k in ModelWeights.blockTensors(c) {
                let name = TensorNaming.name(k, layer: l, format: c.format, architecture: c.architecture)
                let shape = ModelWeights.expectedShape(k, c)
                if shape.count == 2 {
                    matrices[k] = try matrix(name, rows: shape[0], cols: shape[1])
                } else {
                    vectors[k] = try vector(name, count: shape[0], isNorm: ModelWeights.isNorm(k))
                }
            }
            list.append(try LayerWeights(vectors: vectors, matrices: matrices))
        }
        layers = list
    }
}
