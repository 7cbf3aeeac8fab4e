import Foundation
import ModelIO
import TestSupport
import XCTest

/// Byte equality via memcmp (a byte loop over 100 MB is slow in debug builds).
func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
    return memcmp(pa, pb, a.count) == 0
}

final class GGUFWriterTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ggufw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testRoundTripWithReplacedTensors() throws {
        guard let url = TestModels.url(TestModels.smolFile) else { throw XCTSkip("model not fetched") }
        let src = try GGUFFile(url: url)
        // A quantised matrix, an F32 norm and a 1-row slice of a big one get replaced.
        let q = try XCTUnwrap(src.tensorInfo("blk.0.ffn_down.weight"))
        let norm = try XCTUnwrap(src.tensorInfo("blk.0.attn_norm.weight"))
        var newQ = try src.floats(q.name)
        for i in stride(from: 0, to: newQ.count, by: 7) { newQ[i] += 0.25 }
        newQ[0] = -0.0
        newQ[1] = 0x1p-149
        let newNorm = (0..<norm.elementCount).map { Float($0) * 0.5 - 3 }
        let out = try tempDir().appendingPathComponent("merged.gguf")
        try GGUFWriter.write(copying: src, replacing: [q.name: newQ, norm.name: newNorm], to: out)

        let back = try GGUFFile(url: out)
        XCTAssertEqual(back.version, 3)
        XCTAssertEqual(back.metadataKeys, src.metadataKeys)
        XCTAssertEqual(back.metadata, src.metadata)
        XCTAssertEqual(back.alignment, src.alignment)
        XCTAssertEqual(back.tensors.map(\.name), src.tensors.map(\.name))
        for (a, b) in zip(src.tensors, back.tensors) {
            XCTAssertEqual(a.ggufDims, b.ggufDims, a.name)
            XCTAssertEqual(b.fileOffset % back.alignment, 0, a.name)
            if a.name == q.name || a.name == norm.name {
                XCTAssertEqual(b.type, .f32, a.name)
            } else {
                XCTAssertEqual(a.type, b.type, a.name)
                XCTAssertTrue(sameBytes(src.rawBytes(a), back.rawBytes(b)), "\(a.name) must be byte-identical")
            }
        }
        XCTAssertEqual(try back.floats(q.name).map(\.bitPattern), newQ.map(\.bitPattern))
        XCTAssertEqual(try back.floats(norm.name), newNorm)
        // Unreplaced tensors still dequantise to the same values.
        XCTAssertEqual(try back.floats("blk.1.ffn_down.weight"), try src.floats("blk.1.ffn_down.weight"))

        // Deterministic: the same inputs give the same bytes.
        let again = out.deletingLastPathComponent().appendingPathComponent("again.gguf")
        try GGUFWriter.write(copying: src, replacing: [norm.name: newNorm, q.name: newQ], to: again)
        let m1 = try MappedFile(url: out), m2 = try MappedFile(url: again)
        withExtendedLifetime((m1, m2)) { XCTAssertTrue(sameBytes(m1.bytes, m2.bytes)) }
        withExtendedLifetime((src, back)) {}
    }

    func testMetadataOverridesAndErrors() throws {
        guard let url = TestModels.url(TestModels.smolFile) else { throw XCTSkip("model not fetched") }
        let src = try GGUFFile(url: url)
        let dir = try tempDir()
        let out = dir.appendingPathComponent("meta.gguf")
        try GGUFWriter.write(copying: src, replacing: [:],
                             metadata: [("general.name", .string("patched")),
                                        ("langneuron.patch.languages", .array([.string("fr"), .string("de")])),
                                        ("langneuron.patch.scale", .float32(0.5))], to: out)
        let back = try GGUFFile(url: out)
        XCTAssertEqual(back.metadataKeys, src.metadataKeys + ["langneuron.patch.languages", "langneuron.patch.scale"])
        XCTAssertEqual(back.metadata["general.name"], .string("patched"))
        XCTAssertEqual(back.metadata["langneuron.patch.languages"]?.stringArray, ["fr", "de"])
        XCTAssertEqual(back.metadata["langneuron.patch.scale"], .float32(0.5))
        for k in src.metadataKeys where k != "general.name" { XCTAssertEqual(back.metadata[k], src.metadata[k], k) }
        // No replacement: every tensor byte-identical.
        for (a, b) in zip(src.tensors, back.tensors) { XCTAssertTrue(sameBytes(src.rawBytes(a), back.rawBytes(b)), a.name) }

        let bad = dir.appendingPathComponent("bad.gguf")
        XCTAssertThrowsError(try GGUFWriter.write(copying: src, replacing: ["nope": [1]], to: bad)) { err in
            guard case .missingTensor = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try GGUFWriter.write(copying: src, replacing: ["blk.0.attn_norm.weight": [1, 2]], to: bad)) { err in
            guard case .bufferSizeMismatch = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try GGUFWriter.write(copying: src, replacing: [:], metadata: [("x", .array([]))], to: bad)) { err in
            guard case .writeFailed = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["meta.gguf"])
    }

    func testDuplicateMetadataKeyIsRejected() throws {
        var b = [UInt8]()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b.append(contentsOf: $0) } }
        b += Array("GGUF".utf8); u32(3); u64(0); u64(2)
        for v in [UInt32(1), 2] { u64(1); b += Array("a".utf8); u32(4); u32(v) }
        let url = try tempDir().appendingPathComponent("dup.gguf")
        try Data(b).write(to: url)
        XCTAssertThrowsError(try GGUFFile(url: url)) { err in
            guard case .malformed(_, "a", _) = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        // The same file with distinct keys parses (so the check above is about the duplicate).
        b[b.count - 9] = UInt8(ascii: "b") // the second key: 8 bytes before type (4) and value (4)
        try Data(b).write(to: url)
        XCTAssertEqual(try GGUFFile(url: url).metadataKeys, ["a", "b"])
    }
}
