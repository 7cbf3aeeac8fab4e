import Foundation
import ModelIO
import TestSupport
import XCTest

/// Dequantisation of the default models against the PyTorch float64 reference in
/// `shared/reference/<model>/manifest.json` (`dequant`: one tensor per stored type).
final class DequantReferenceTests: XCTestCase {
    func checkManifest(model: String, file: String) throws {
        guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched (set LANGNEURON_MODELS)") }
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not present") }
        let g = try GGUFFile(url: url)
        let manifest = try SharedData.manifest(model)
        let dequant = try XCTUnwrap(manifest["dequant"] as? [String: Any])
        XCTAssertFalse(dequant.isEmpty)
        for (typeName, entryAny) in dequant.sorted(by: { $0.key < $1.key }) {
            let entry = try XCTUnwrap(entryAny as? [String: Any])
            let name = try XCTUnwrap(entry["tensor"] as? String)
            let info = try XCTUnwrap(g.tensorInfo(name))
            XCTAssertEqual(info.type.description, typeName, name)
            let first16 = try XCTUnwrap(entry["first16"] as? [Double])
            let refSum = try XCTUnwrap(entry["sum"] as? Double)
            let refSumsq = try XCTUnwrap(entry["sumsq"] as? Double)
            let count = try XCTUnwrap(entry["count"] as? Int)
            let start = Date()
            let values = try g.floats(name)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertEqual(values.count, count, name)
            // first16: within 1e-6 relative of the float64 reference (a reference 0 must be exactly 0).
            var maxAbs = 0.0
            for (i, r) in first16.enumerated() {
                let err = abs(Double(values[i]) - r)
                maxAbs = max(maxAbs, err)
                XCTAssertLessThanOrEqual(err, 1e-6 * abs(r), "\(model) \(typeName) \(name)[\(i)]: \(values[i]) vs \(r)")
            }
            var sum = 0.0, sumsq = 0.0
            for v in values { let d = Double(v); sum += d; sumsq += d * d }
            // sum and sum of squares: within 1e-5 relative of the float64 reference.
            XCTAssertLessThanOrEqual(abs(sum - refSum), 1e-5 * abs(refSum), "\(model) \(typeName) sum \(sum) vs \(refSum)")
            XCTAssertLessThanOrEqual(abs(sumsq - refSumsq), 1e-5 * abs(refSumsq), "\(model) \(typeName) sumsq \(sumsq) vs \(refSumsq)")
            let mb = Double(info.byteCount) / 1e6
            print(String(format: "dequant %@ %@ %@: %d values, first16 max abs err %.3g, sum rel err %.3g, sumsq rel err %.3g, %.3f s (%.0f MB/s in, %.0f Mvalues/s)",
                         model, typeName, name, count, maxAbs, abs(sum - refSum) / abs(refSum),
                         abs(sumsq - refSumsq) / abs(refSumsq), seconds, mb / seconds, Double(count) / seconds / 1e6))
        }
    }

    /// Throughput of the largest tensor (Gemma's 168M-value Q8_0 embedding), warm, into a
    /// preallocated buffer. Printed, not asserted (no timing asserts in tests).
    func testMeasureEmbeddingThroughput() throws {
        guard let url = TestModels.url(TestModels.gemmaFile) else { throw XCTSkip("gemma not fetched") }
        let g = try GGUFFile(url: url)
        let info = try XCTUnwrap(g.tensorInfo("token_embd.weight"))
        let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: info.elementCount)
        defer { buf.deallocate() }
        for run in 0..<3 {
            buf.update(repeating: .nan)
            let start = Date()
            try g.dequantize(info, into: buf)
            let s = Date().timeIntervalSince(start)
            print(String(format: "embedding dequant run %d: %.3f s, %.0f MB/s in, %.0f MB/s out", run, s,
                         Double(info.byteCount) / s / 1e6, Double(info.elementCount * 4) / s / 1e6))
            XCTAssertFalse(buf[info.elementCount - 1].isNaN)
            XCTAssertEqual(buf[0], -0.007244110107421875) // manifest first16[0], exactly
        }
        // Warm throughput of the largest tensor of each type in both models.
        for file in [TestModels.gemmaFile, TestModels.smolFile] {
            guard let u = TestModels.url(file) else { continue }
            let m = try GGUFFile(url: u)
            var largest = [GGMLType: GGUFTensorInfo]()
            for t in m.tensors where t.elementCount > (largest[t.type]?.elementCount ?? 0) { largest[t.type] = t }
            for (type, t) in largest.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where t.elementCount <= info.elementCount {
                let out = UnsafeMutableBufferPointer(rebasing: buf[0..<t.elementCount])
                try m.dequantize(t, into: out) // warm the pages
                let start = Date()
                try m.dequantize(t, into: out)
                let s = Date().timeIntervalSince(start)
                print(String(format: "warm dequant %@ %@ (%d values): %.4f s, %.0f MB/s in, %.0f Mvalues/s", file, type.description, t.elementCount, s,
                             Double(t.byteCount) / s / 1e6, Double(t.elementCount) / s / 1e6))
            }
        }
    }

    func testGemmaMatchesReference() throws {
        try checkManifest(model: "gemma3-270m", file: TestModels.gemmaFile)
    }

    func testSmolLMMatchesReference() throws {
        try checkManifest(model: "smollm2-135m", file: TestModels.smolFile)
    }

    /// Rows of a tensor dequantised alone equal the same rows of the whole tensor, for every
    /// type in both default models; bad ranges and buffer sizes are clear errors.
    func testRowRangesMatchWholeTensor() throws {
        var checked = Set<String>()
        for file in [TestModels.gemmaFile, TestModels.smolFile] {
            guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched") }
            let g = try GGUFFile(url: url)
            for info in g.tensors where !checked.contains(info.type.description) && info.elementCount < 3_000_000 {
                checked.insert(info.type.description)
                let whole = try g.floats(info.name)
                let rowLength = info.ggufDims[0]
                let nRows = GGUFFile.rowCount(info)
                XCTAssertEqual(info.shape.last, rowLength)
                for rows in [0..<1, (nRows / 2)..<min(nRows, nRows / 2 + 3), (nRows - 1)..<nRows, 0..<0] {
                    var part = [Float](repeating: .nan, count: rows.count * rowLength)
                    try part.withUnsafeMutableBufferPointer { try g.dequantize(info, rows: rows, into: $0) }
                    XCTAssertEqual(part, Array(whole[(rows.lowerBound * rowLength)..<(rows.upperBound * rowLength)]),
                                   "\(info.name) rows \(rows)")
                }
                var buf = [Float](repeating: 0, count: rowLength)
                XCTAssertThrowsError(try buf.withUnsafeMutableBufferPointer { try g.dequantize(info, rows: nRows..<(nRows + 1), into: $0) }) { err in
                    guard case .rowsOutOfRange = err as? ModelIOError else { return XCTFail("\(err)") }
                    XCTAssertTrue(err.localizedDescription.contains(info.name))
                }
                var longBuf = [Float](repeating: 0, count: rowLength + 1)
                XCTAssertThrowsError(try longBuf.withUnsafeMutableBufferPointer { try g.dequantize(info, rows: 0..<1, into: $0) }) { err in
                    guard case .bufferSizeMismatch = err as? ModelIOError else { return XCTFail("\(err)") }
                }
            }
        }
        XCTAssertTrue(checked.isSuperset(of: ["F32", "Q8_0", "Q5_0", "Q4_K", "Q6_K", "Q4_1"]), "\(checked)")
        XCTAssertThrowsError(try GGUFFile(url: XCTUnwrap(TestModels.url(TestModels.smolFile))).floats("no.such.tensor")) { err in
            guard case .missingTensor = err as? ModelIOError else { return XCTFail("\(err)") }
        }
    }
}
