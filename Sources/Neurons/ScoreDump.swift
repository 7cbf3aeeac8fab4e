import Foundation

/// Streams float32 vectors into a safetensors file: data go to a temporary file as they come,
/// and `finish` writes the header (8-byte little-endian length, JSON with dtype/shape/data_offsets
/// and a `__metadata__` map, space-padded to a multiple of 8) followed by the data, then renames
/// into place. Memory stays independent of the number of vectors.
public final class ScoreDumpWriter {
    public let url: URL
    private let dataURL: URL
    private let handle: FileHandle
    private var entries: [(name: String, count: Int, start: Int)] = []
    private var names = Set<String>()
    private var offset = 0
    private var finished = false

    public init(url: URL) throws {
        self.url = url
        dataURL = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).data-\(ProcessInfo.processInfo.processIdentifier)")
        guard FileManager.default.createFile(atPath: dataURL.path, contents: nil),
              let h = try? FileHandle(forWritingTo: dataURL) else {
            throw NeuronsError.writeFailed(path: url.path, reason: "cannot create a temporary file next to it")
        }
        handle = h
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(at: dataURL)
        }
    }

    /// Appends one 1-D float32 tensor.
    public func append(_ name: String, _ values: [Double]) throws {
        guard names.insert(name).inserted else { throw NeuronsError.invalidOption(name: "dump", reason: "tensor \(name) written twice") }
        var bytes = Data(count: values.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() { raw.storeBytes(of: Float(v).bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        do { try handle.write(contentsOf: bytes) } catch {
            throw NeuronsError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
        entries.append((name, values.count, offset))
        offset += bytes.count
    }

    /// Writes the file with `metadata` (string values, as the format requires).
    public func finish(metadata: [String: String]) throws {
        try? handle.close()
        var header = [String: JSONValue]()
        for e in entries {
            header[e.name] = .object(["dtype": .string("F32"), "shape": .array([.int(e.count)]),
                                      "data_offsets": .array([.int(e.start), .int(e.start + e.count * 4)])])
        }
        header["__metadata__"] = .object(metadata.mapValues { .string($0) })
        var text = Array(Self.compact(.object(header)).utf8)
        while text.count % 8 != 0 { text.append(0x20) }
        var out = Data()
        var n = UInt64(text.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: text)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try out.write(to: tmp)
            let w = try FileHandle(forWritingTo: tmp)
            try w.seekToEnd()
            let r = try FileHandle(forReadingFrom: dataURL)
            while let chunk = try r.read(upToCount: 1 << 22), !chunk.isEmpty { try w.write(contentsOf: chunk) }
            try r.close()
            try w.close()
            try? FileManager.default.removeItem(at: dataURL)
            try renameReplacing(tmp, url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            try? FileManager.default.removeItem(at: dataURL)
            finished = true
            throw NeuronsError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
        finished = true
    }

    /// One-line JSON with sorted keys.
    static func compact(_ v: JSONValue) -> String {
        switch v {
        case let .object(o):
            return "{" + o.keys.sorted().map { JSONValue.quoted($0) + ":" + compact(o[$0] ?? .null) }.joined(separator: ",") + "}"
        case let .array(a):
            return "[" + a.map(compact).joined(separator: ",") + "]"
        default:
            return v.rendered()
        }
    }
}
