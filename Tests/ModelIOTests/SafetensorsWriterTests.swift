import Foundation
import ModelIO
import XCTest

final class SafetensorsWriterTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("stw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    static func bytes<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

    func sample() -> [SafetensorsWriter.Tensor] {
        let f: [Float] = [1.5, -0.0, .nan, 0x1p-149, -3.25e38, .infinity]
        let i: [Int32] = [1, -2, .max, .min]
        let h: [UInt16] = [0x3C00, 0x8000, 0x7BFF, 0x0001, 0xFC00, 0x7E00]
        let b: [UInt16] = [0x3F80, 0xC0A0, 0x0000]
        let ptr = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        ptr[0] = 7; ptr[1] = 8
        addTeardownBlock { ptr.deallocate() }
        return [
            .init(name: "z.weight", shape: [2, 3], floats: f),
            .init(name: "a.ids", dtype: .i32, shape: [4], data: Self.bytes(i)),
            .init(name: "m.half", dtype: .f16, shape: [3, 2], data: Self.bytes(h)),
            .init(name: "b.bf16", dtype: .bf16, shape: [3], data: Self.bytes(b)),
            .init(name: "scalar", shape: [], floats: [42]),
            .init(name: "empty", shape: [0, 3], floats: []),
            .init(name: "p\"ointer\\é", dtype: .f32, shape: [1, 2], bytes: UnsafeRawBufferPointer(ptr)),
        ]
    }

    func testRoundTrip() throws {
        let dir = try tempDir()
        let url = dir.appendingPathComponent("rt.safetensors")
        let tensors = sample()
        let meta = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ünïcode", "base_model_sha256": String(repeating: "ab", count: 32)]
        try SafetensorsWriter.write(tensors: tensors, metadata: meta, to: url)
        let f = try SafetensorsFile(url: url)
        XCTAssertEqual(f.metadata, meta)
        XCTAssertEqual(f.tensorNames, tensors.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        XCTAssertEqual(f.headerLength % 8, 0)
        for t in tensors {
            let info = try XCTUnwrap(f.info(t.name), t.name)
            XCTAssertEqual(info.dtype, t.dtype, t.name)
            XCTAssertEqual(info.shape, t.shape, t.name)
            XCTAssertEqual(info.fileOffset % 2, 0)
        }
        // Bytes identical to what was given.
        XCTAssertEqual(Data(f.rawBytes(try XCTUnwrap(f.info("a.ids")))), Self.bytes([Int32(1), -2, .max, .min]))
        XCTAssertEqual(Data(f.rawBytes(try XCTUnwrap(f.info("m.half")))), Self.bytes([UInt16(0x3C00), 0x8000, 0x7BFF, 0x0001, 0xFC00, 0x7E00]))
        let z = try f.floatArray("z.weight")
        XCTAssertEqual(z.map(\.bitPattern), ([1.5, -0.0, .nan, 0x1p-149, -3.25e38, .infinity] as [Float]).map(\.bitPattern))
        XCTAssertEqual(try f.floatArray("m.half").map(\.bitPattern).prefix(5), ([1, -0.0, 65504, 0x1p-24, -.infinity] as [Float]).map(\.bitPattern)[...])
        XCTAssertEqual(try f.floatArray("b.bf16"), [1, -5, 0])
        XCTAssertEqual(try f.floatArray("scalar"), [42])
        XCTAssertEqual(try f.floatArray("empty"), [])
        XCTAssertEqual(try f.floatArray("p\"ointer\\é"), [7, 8])
        // The header is what a safetensors parser expects: data of the first tensor at 8 + N.
        let sortedFirst = try XCTUnwrap(f.tensors.first)
        XCTAssertEqual(sortedFirst.fileOffset, 8 + f.headerLength)
        // Nothing but the file is left in the directory (the temporary file was renamed).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["rt.safetensors"])
    }

    func testDeterministic() throws {
        let dir = try tempDir()
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        let t = sample()
        try SafetensorsWriter.write(tensors: t, metadata: ["x": "1", "a": "2"], to: a)
        try SafetensorsWriter.write(tensors: t.reversed(), metadata: ["a": "2", "x": "1"], to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
        // Header starts as documented: __metadata__ first, sorted keys, no whitespace.
        let data = try Data(contentsOf: a)
        XCTAssertTrue(String(decoding: data[8..<120], as: UTF8.self).hasPrefix(#"{"__metadata__":{"a":"2","x":"1"},"a.ids":{"dtype":"I32""#))
    }

    func testInvalidInputLeavesDestinationUntouched() throws {
        let dir = try tempDir()
        let url = dir.appendingPathComponent("keep.safetensors")
        try Data("old".utf8).write(to: url)
        XCTAssertThrowsError(try SafetensorsWriter.write(tensors: [.init(name: "x", shape: [3], floats: [1, 2])], to: url)) { err in
            guard case .writeFailed = err as? ModelIOError else { return XCTFail("\(err)") }
            XCTAssertTrue(err.localizedDescription.contains("'x'"))
        }
        XCTAssertThrowsError(try SafetensorsWriter.write(tensors: [.init(name: "x", shape: [1], floats: [1]), .init(name: "x", shape: [1], floats: [2])], to: url))
        XCTAssertEqual(try Data(contentsOf: url), Data("old".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["keep.safetensors"])
        // An unwritable destination directory is a clear error.
        XCTAssertThrowsError(try SafetensorsWriter.write(tensors: [], to: dir.appendingPathComponent("no/such/dir.safetensors"))) { err in
            guard case .writeFailed = err as? ModelIOError else { return XCTFail("\(err)") }
        }
    }
}
