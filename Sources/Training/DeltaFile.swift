import Foundation
import Kernels
import ModelIO
import Models

/// A sparse delta checkpoint (`delta.safetensors`, format `langneuron.delta/1`): for each trained
/// tensor, an int32 index tensor `<tensor>.rows` or `<tensor>.cols` and a float32 `<tensor>.delta`
/// of shape `[n, d]` holding `new − base` for those rows (columns stored as rows). `__metadata__`
/// records the base model's fingerprint, the language, neuron counts, the recipe and final metrics.
public struct DeltaFile {
    public static let format = "langneuron.delta/1"

    public struct Entry {
        public let tensorName: String
        public let layer: Int
        public let tensor: TrainableTensor
        public let indices: [Int]
        /// `[indices.count, sliceLength]`.
        public let values: [Float]
    }

    public var entries: [Entry]
    public var baseFingerprint: String
    public var metadata: [String: String]

    /// `trained − base` for every trainable slice.
    public init(base: SliceBuffers, trained: SliceBuffers, config: ModelConfig, baseFingerprint: String, metadata: [String: String]) {
        let naming = SliceNaming(config: config)
        var list = [Entry]()
        trained.forEach { l, t, buf in
            let b = base.buffers[l][t]!
            let values = (0..<buf.count).map { buf[$0] - b[$0] }
            list.append(Entry(tensorName: naming.name(layer: l, t), layer: l, tensor: t,
                              indices: trained.slices.indices(layer: l, t), values: values))
        }
        entries = list
        self.baseFingerprint = baseFingerprint
        self.metadata = metadata
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        var tensors = [SafetensorsWriter.Tensor]()
        for e in entries {
            let idx = e.indices.map { Int32($0) }
            let idxData = idx.withUnsafeBytes { Data($0) }
            tensors.append(.init(name: "\(e.tensorName).\(e.tensor.isColumnSlice ? "cols" : "rows")", dtype: .i32, shape: [idx.count], data: idxData))
            tensors.append(.init(name: "\(e.tensorName).delta", shape: [e.indices.count, e.values.count / max(1, e.indices.count)], floats: e.values))
        }
        var meta = metadata
        meta["format"] = Self.format
        meta["base_fingerprint"] = baseFingerprint
        try SafetensorsWriter.write(tensors: tensors, metadata: meta, to: url)
    }

    /// Reads and checks a delta against the model it is meant for.
    /// When `fingerprint` is given, a delta made for another base model is refused before anything else.
    public static func read(url: URL, config: ModelConfig, fingerprint: String? = nil) throws -> DeltaFile {
        let path = url.path
        let file: SafetensorsFile
        do { file = try SafetensorsFile(url: url) } catch {
            throw TrainingError.delta(path: path, reason: "cannot read it as safetensors: \(error.localizedDescription)")
        }
        guard file.metadata["format"] == format else {
            throw TrainingError.delta(path: path, reason: "metadata format is '\(file.metadata["format"] ?? "missing")', expected '\(format)'")
        }
        guard let fp = file.metadata["base_fingerprint"], !fp.isEmpty else {
            throw TrainingError.delta(path: path, reason: "no base_fingerprint in its metadata")
        }
        if let expected = fingerprint, expected != fp {
            throw TrainingError.fingerprintMismatch(path: path, expected: fp, found: expected)
        }
        let naming = SliceNaming(config: config)
        var entries = [Entry]()
        for info in file.tensors where info.name.hasSuffix(".delta") {
            let base = String(info.name.dropLast(".delta".count))
            guard let (l, t) = naming.parse(base) else {
                throw TrainingError.delta(path: path, reason: "tensor '\(base)' is not a trainable tensor of this model (another architecture?)")
            }
            let idxName = base + (t.isColumnSlice ? ".cols" : ".rows")
            guard let idxInfo = file.info(idxName), idxInfo.dtype == .i32, idxInfo.shape.count == 1 else {
                throw TrainingError.delta(path: path, reason: "'\(idxName)' (int32 indices) is missing or malformed")
            }
            let raw = file.rawBytes(idxInfo)
            let indices = (0..<idxInfo.shape[0]).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            let d = t.sliceLength(config)
            guard info.shape == [indices.count, d] else {
                throw TrainingError.delta(path: path, reason: "'\(info.name)' has shape \(info.shape), expected [\(indices.count), \(d)]")
            }
            let units = t.unitCount(config)
            guard indices.allSatisfy({ (0..<units).contains($0) }), Set(indices).count == indices.count else {
                throw TrainingError.delta(path: path, reason: "'\(idxName)' has out-of-range or duplicate indices (tensor has \(units))")
            }
            var values = [Float](repeating: 0, count: indices.count * d)
            try values.withUnsafeMutableBufferPointer { try file.readFloats(info.name, into: $0) }
            entries.append(Entry(tensorName: base, layer: l, tensor: t, indices: indices, values: values))
        }
        var d = DeltaFile(entries: entries, baseFingerprint: fp, metadata: file.metadata)
        d.entries.sort { ($0.layer, $0.tensor) < ($1.layer, $1.tensor) }
        return d
    }

    init(entries: [Entry], baseFingerprint: String, metadata: [String: String]) {
        self.entries = entries
        self.baseFingerprint = baseFingerprint
        self.metadata = metadata
    }

    /// Adds `scale · delta` to the model's weights (use −1 to revert). Refuses a delta made for another base.
    public func apply(to model: Transformer, fingerprint: String, scale: Float = 1, path: String) throws {
        guard fingerprint == baseFingerprint else {
            throw TrainingError.fingerprintMismatch(path: path, expected: baseFingerprint, found: fingerprint)
        }
        for e in entries where !e.indices.isEmpty {
            let p = model.weights.layers[e.layer].projection(e.tensor)
            e.values.withUnsafeBufferPointer { v in
                p.ensureDelta(covering: e.indices).add(units: e.indices, values: v.baseAddress!, scale: scale)
            }
        }
    }

    /// Trained parameters per tensor kind.
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.values.count } }
}
