import Foundation
import ModelIO
import TestSupport
import XCTest

final class SafetensorsReaderTests: XCTestCase {
    struct Tiny { let arch: String, count: Int, dtype: String, layers: Int, qShape: [Int], lmHead: Bool, shards: Int }
    // Counts and shapes read from the checkpoint headers and config.json files.
    static let tiny = [
        Tiny(arch: "gemma3", count: 80, dtype: "BF16", layers: 6, qShape: [64, 64], lmHead: false, shards: 1),
        Tiny(arch: "llama", count: 30, dtype: "BF16", layers: 3, qShape: [64, 64], lmHead: true, shards: 1),
        Tiny(arch: "mistral", count: 21, dtype: "F16", layers: 2, qShape: [64, 64], lmHead: true, shards: 3),
        Tiny(arch: "qwen2", count: 26, dtype: "F32", layers: 2, qShape: [64, 64], lmHead: false, shards: 1),
        Tiny(arch: "qwen3", count: 24, dtype: "BF16", layers: 2, qShape: [128, 64], lmHead: false, shards: 1),
    ]

    /// Reference decoding of one stored element, from the format definitions (independent of ModelIO).
    static func decode(_ b: [UInt8], at i: Int, dtype: String) -> Float {
        switch dtype {
        case "F32":
            let u = UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24
            return Float(bitPattern: u)
        case "BF16":
            return Float(bitPattern: (UInt32(b[2 * i]) | UInt32(b[2 * i + 1]) << 8) << 16)
        default:
            return Float(DequantSyntheticTests.halfValue(UInt16(b[2 * i]) | UInt16(b[2 * i + 1]) << 8))
        }
    }

    func testTinyCheckpoints() throws {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not present") }
        for t in Self.tiny {
            let dir = SharedData.url("reference/tiny/\(t.arch)/model")
            let hf = try HuggingFaceModelDirectory(url: dir)
            XCTAssertEqual(hf.config["num_hidden_layers"] as? Int, t.layers, t.arch)
            XCTAssertFalse(hf.configData.isEmpty)
            XCTAssertEqual(hf.tokenizerURL?.lastPathComponent, "tokenizer.json")
            let w: TensorSource = hf.weights
            XCTAssertEqual(w.tensorNames.count, t.count, t.arch)
            XCTAssertEqual(w.tensorNames, w.tensorNames.sorted(), t.arch)
            XCTAssertEqual(hf.weights.files.count, t.shards, t.arch)
            XCTAssertEqual(w.shape(of: "model.embed_tokens.weight"), [49152, 64], t.arch)
            XCTAssertEqual(w.shape(of: "model.layers.0.self_attn.q_proj.weight"), t.qShape, t.arch)
            XCTAssertEqual(w.shape(of: "model.norm.weight"), [64], t.arch)
            XCTAssertEqual(w.shape(of: "lm_head.weight") != nil, t.lmHead, t.arch)
            XCTAssertNil(w.shape(of: "no.such.tensor"))
            for n in w.tensorNames { XCTAssertEqual(w.storageType(of: n), t.dtype, "\(t.arch) \(n)") }

            // Decoding: every element of a few tensors vs the scalar reference on the file's bytes.
            for name in ["model.layers.0.self_attn.q_proj.weight", "model.norm.weight", "model.embed_tokens.weight"] {
                let (file, info) = try XCTUnwrap(hf.weights.locate(name))
                let raw = try Data(contentsOf: file.url)[info.fileOffset..<(info.fileOffset + info.byteCount)]
                let values = try w.floatArray(name)
                XCTAssertEqual(values.count, info.elementCount)
                let data = [UInt8](raw)
                var mismatches = 0
                for i in 0..<values.count where values[i].bitPattern != Self.decode(data, at: i, dtype: t.dtype).bitPattern {
                    mismatches += 1
                }
                XCTAssertEqual(mismatches, 0, "\(t.arch) \(name): exact decoding (tolerance 0)")
                XCTAssertGreaterThan(values.map { abs($0) }.max() ?? 0, 0, "\(t.arch) \(name) is not all zero")
                // Row ranges are slices of the whole tensor.
                let rowLength = info.shape.last ?? 1
                let nRows = w.rowCount(of: name) ?? 0
                let rows = (nRows / 2)..<min(nRows, nRows / 2 + 3)
                var part = [Float](repeating: .nan, count: rows.count * rowLength)
                try part.withUnsafeMutableBufferPointer { try w.readFloats(name, rows: rows, into: $0) }
                XCTAssertEqual(part, Array(values[(rows.lowerBound * rowLength)..<(rows.upperBound * rowLength)]))
            }
            var one = [Float](repeating: 0, count: 64)
            XCTAssertThrowsError(try one.withUnsafeMutableBufferPointer { try w.readFloats("model.norm.weight", rows: 1..<2, into: $0) }) { err in
                guard case .rowsOutOfRange = err as? ModelIOError else { return XCTFail("\(err)") }
            }
            XCTAssertThrowsError(try one.withUnsafeMutableBufferPointer { try w.readFloats("missing.weight", into: $0) }) { err in
                guard case .missingTensor = err as? ModelIOError else { return XCTFail("\(err)") }
            }
            XCTAssertThrowsError(try w.floatArray("missing.weight")) { err in
                guard case .missingTensor = err as? ModelIOError else { return XCTFail("\(err)") }
                XCTAssertTrue(err.localizedDescription.contains(dir.path), err.localizedDescription)
            }
        }
    }

    func testSingleFileMetadata() throws {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not present") }
        let f = try SafetensorsFile(url: SharedData.url("reference/tiny/llama/model/model.safetensors"))
        XCTAssertEqual(f.metadata, ["format": "pt"])
        XCTAssertEqual(f.tensors.count, 30)
    }

    // MARK: corrupt input

    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// A safetensors file from a header string and data bytes (the length prefix is computed).
    static func file(header: String, data: [UInt8], lengthOverride: UInt64? = nil) -> Data {
        var out = Data()
        let h = Array(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: data)
        return out
    }

    func expectError(_ data: Data, _ check: (ModelIOError) -> Bool, _ message: String, line: UInt = #line) throws {
        let url = try tempDir().appendingPathComponent("bad.safetensors")
        try data.write(to: url)
        XCTAssertThrowsError(try SafetensorsFile(url: url), message, line: line) { err in
            guard let e = err as? ModelIOError, check(e) else { return XCTFail("\(message): unexpected \(err)", line: line) }
            XCTAssertTrue(e.localizedDescription.contains(url.path), line: line)
        }
    }

    func testCorruptFilesGiveClearErrors() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        // Sanity: the well-formed variant opens.
        let good = try tempDir().appendingPathComponent("good.safetensors")
        try Self.file(header: ok, data: eight).write(to: good)
        XCTAssertEqual(try SafetensorsFile(url: good).shape(of: "a"), [2])

        func isTruncated(_ e: ModelIOError) -> Bool { if case .truncated = e { return true }; return false }
        func isMalformed(_ e: ModelIOError) -> Bool { if case .malformed = e { return true }; return false }
        try expectError(Data([1, 2, 3]), isTruncated, "shorter than the length prefix")
        try expectError(Self.file(header: ok, data: eight, lengthOverride: 500), isTruncated, "header longer than the file")
        try expectError(Self.file(header: ok, data: eight, lengthOverride: 1 << 40), isMalformed, "absurd header length")
        try expectError(Self.file(header: ok, data: [0, 0, 0]), isTruncated, "data cut short")
        try expectError(Self.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#, data: eight), isMalformed, "invalid JSON")
        try expectError(Self.file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), isMalformed, "size mismatch")
        try expectError(Self.file(header: #"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, data: eight), isMalformed, "unknown dtype")
        try expectError(Self.file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight), isMalformed, "negative dim")
        try expectError(Self.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}"#, data: eight), isMalformed, "overlap")
        try expectError(Self.file(header: #"{"__metadata__":{"k":1}}"#, data: []), isMalformed, "non-string metadata")
        try expectError(Self.file(header: #"[1,2]"#, data: []), isMalformed, "not an object")
    }

    func testNonFloatDtypeIsClearErrorOnRead() throws {
        let url = try tempDir().appendingPathComponent("i.safetensors")
        try Self.file(header: #"{"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#, data: [1, 0, 0, 0, 2, 0, 0, 0]).write(to: url)
        let f = try SafetensorsFile(url: url)
        XCTAssertEqual(f.storageType(of: "i"), "I32")
        XCTAssertThrowsError(try f.floatArray("i")) { err in
            guard case .unsupportedTensorType(_, "i", "I32") = err as? ModelIOError else { return XCTFail("\(err)") }
        }
    }

    func testShardedDirectoryErrors() throws {
        let d = try tempDir()
        XCTAssertThrowsError(try SafetensorsCollection(directory: d)) { err in
            guard case .missingFile = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        try Data(#"{"weight_map":{"a":"model-1.safetensors"}}"#.utf8).write(to: d.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertThrowsError(try SafetensorsCollection(directory: d)) { err in
            guard case .missingFile = err as? ModelIOError else { return XCTFail("\(err)") }
            XCTAssertTrue(err.localizedDescription.contains("model-1.safetensors"))
        }
        try Self.file(header: #"{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
            .write(to: d.appendingPathComponent("model-1.safetensors"))
        XCTAssertThrowsError(try SafetensorsCollection(directory: d)) { err in
            guard case .missingTensor(_, "a") = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try HuggingFaceModelDirectory(url: d)) { err in
            guard case .missingFile = err as? ModelIOError else { return XCTFail("\(err)") }
            XCTAssertTrue(err.localizedDescription.contains("config.json"))
        }
    }
}
