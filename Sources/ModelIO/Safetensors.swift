import Foundation

/// Element types of the safetensors format (the `dtype` strings of its header).
public enum SafetensorsDType: String, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// Whether `readFloats` can convert this type (F32, F16, BF16).
    public var isReadableAsFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor of a safetensors file.
public struct SafetensorsTensorInfo: Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Outermost first, as PyTorch writes it.
    public let shape: [Int]
    /// Byte offset of the data from the start of the file (header already added).
    public let fileOffset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped `.safetensors` file: u64 little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`),
/// then the data; offsets are relative to the end of the header. Every entry is validated
/// (known dtype, non-negative shape, size = elements × dtype size, inside the file, no
/// overlaps) when the file is opened.
public final class SafetensorsFile: TensorSource {
    public let url: URL
    public let file: MappedFile
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Tensors sorted by name (byte-wise).
    public let tensors: [SafetensorsTensorInfo]
    /// Length of the JSON header in bytes (the data starts at 8 + headerLength).
    public let headerLength: Int
    private let index: [String: Int]

    /// Refuse headers above this size (the reference implementation uses the same bound).
    static let maxHeaderLength = 100_000_000

    public init(url: URL) throws {
        let file = try MappedFile(url: url)
        self.url = url
        self.file = file
        let path = url.path
        guard file.size >= 8 else {
            throw ModelIOError.truncated(path: path, needed: 8, size: file.size, what: "the safetensors header length")
        }
        let n64 = file.bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n64 <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw ModelIOError.malformed(path: path, field: "header length",
                                         reason: "\(n64) bytes is more than the \(SafetensorsFile.maxHeaderLength) allowed (not a safetensors file?)")
        }
        let n = Int(n64)
        guard 8 + n <= file.size else {
            throw ModelIOError.truncated(path: path, needed: 8 + n, size: file.size, what: "the safetensors JSON header")
        }
        headerLength = n
        let headerBytes = UnsafeRawBufferPointer(rebasing: file.bytes[8..<(8 + n)])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw ModelIOError.malformed(path: path, field: "header", reason: "does not start with '{' (not a safetensors file?)")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw ModelIOError.malformed(path: path, field: "header", reason: "invalid JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else {
            throw ModelIOError.malformed(path: path, field: "header", reason: "not a JSON object")
        }
        let dataStart = 8 + n
        let dataSize = file.size - dataStart
        var meta = [String: String]()
        var infos = [SafetensorsTensorInfo]()
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw ModelIOError.malformed(path: path, field: name, reason: "must be an object of strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw ModelIOError.malformed(path: path, field: "__metadata__.\(k)", reason: "value is not a string")
                    }
                    meta[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw ModelIOError.malformed(path: path, field: name, reason: "entry is not an object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw ModelIOError.malformed(path: path, field: name, reason: "missing 'dtype'")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw ModelIOError.malformed(path: path, field: name, reason: "unknown dtype '\(dtypeName)'")
            }
            guard let shapeAny = entry["shape"] as? [Any] else {
                throw ModelIOError.malformed(path: path, field: name, reason: "missing 'shape'")
            }
            var shape = [Int]()
            var count = 1
            for d in shapeAny {
                guard let v = SafetensorsFile.nonNegativeInt(d) else {
                    throw ModelIOError.malformed(path: path, field: name, reason: "shape \(shapeAny) has a non-integer or negative dimension")
                }
                let (c, overflow) = count.multipliedReportingOverflow(by: v)
                guard !overflow else {
                    throw ModelIOError.malformed(path: path, field: name, reason: "shape \(shapeAny) is too large")
                }
                shape.append(v)
                count = c
            }
            guard let offs = entry["data_offsets"] as? [Any], offs.count == 2,
                  let begin = SafetensorsFile.nonNegativeInt(offs[0]), let end = SafetensorsFile.nonNegativeInt(offs[1]), begin <= end else {
                throw ModelIOError.malformed(path: path, field: name, reason: "'data_offsets' must be [begin, end] with 0 ≤ begin ≤ end")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, end - begin == bytes else {
                throw ModelIOError.malformed(path: path, field: name,
                                             reason: "data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(count) × \(dtype.size)")
            }
            guard end <= dataSize else {
                throw ModelIOError.truncated(path: path, needed: dataStart + end, size: file.size, what: "data of tensor '\(name)'")
            }
            infos.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + begin, byteCount: bytes))
        }
        // Overlapping tensors mean a corrupt header.
        let byOffset = infos.filter { $0.byteCount > 0 }.sorted { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.fileOffset < a.fileOffset + a.byteCount {
            throw ModelIOError.malformed(path: path, field: b.name, reason: "data overlaps tensor '\(a.name)'")
        }
        infos.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        metadata = meta
        tensors = infos
        var idx = [String: Int]()
        for (i, t) in infos.enumerated() { idx[t.name] = i }
        index = idx
    }

    private static func nonNegativeInt(_ any: Any) -> Int? {
        // JSON numbers arrive as NSNumber; reject fractions and negatives. (`is Bool` cannot
        // be used to reject booleans: on Linux NSNumber 0 and 1 also pass it.)
        if let n = any as? NSNumber {
            let d = n.doubleValue
            guard d >= 0, d == d.rounded(), d < 9.0e15 else { return nil }
            return n.intValue
        }
        return nil
    }

    /// The entry named `name`, if present.
    public func info(_ name: String) -> SafetensorsTensorInfo? { index[name].map { tensors[$0] } }

    /// The stored bytes of a tensor (little-endian), inside the memory map. Valid only while
    /// this object is alive (keep a reference, e.g. with `withExtendedLifetime`).
    public func rawBytes(_ info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.fileOffset..<(info.fileOffset + info.byteCount)])
    }

    // MARK: TensorSource

    /// Tensor names sorted byte-wise.
    public var tensorNames: [String] { tensors.map(\.name) }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
    public func storageType(of name: String) -> String? { info(name)?.dtype.rawValue }

    public func readFloats(_ name: String, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let t = info(name) else { throw ModelIOError.missingTensor(path: url.path, tensor: name) }
        try readFloats(t, rows: 0..<SafetensorsFile.rowCount(t), into: output)
    }

    public func readFloats(_ name: String, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let t = info(name) else { throw ModelIOError.missingTensor(path: url.path, tensor: name) }
        try readFloats(t, rows: rows, into: output)
    }

    static func rowCount(_ t: SafetensorsTensorInfo) -> Int { t.shape.dropLast().reduce(1, *) }

    /// Rows `rows` of `t` converted to float32 (F32, F16 and BF16 only).
    public func readFloats(_ t: SafetensorsTensorInfo, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {
        let rowLength = t.shape.last ?? 1
        let nRows = SafetensorsFile.rowCount(t)
        guard t.dtype.isReadableAsFloat else {
            throw ModelIOError.unsupportedTensorType(path: url.path, tensor: t.name, type: t.dtype.rawValue)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= nRows else {
            throw ModelIOError.rowsOutOfRange(path: url.path, tensor: t.name, rows: rows, rowCount: nRows)
        }
        guard output.count == rows.count * rowLength else {
            throw ModelIOError.bufferSizeMismatch(path: url.path, tensor: t.name, expected: rows.count * rowLength, got: output.count)
        }
        guard let out = output.baseAddress, output.count > 0, let base = file.bytes.baseAddress else { return }
        let x = (base + t.fileOffset + rows.lowerBound * rowLength * t.dtype.size).assumingMemoryBound(to: UInt8.self)
        switch t.dtype {
        case .f32: GGMLDequantizer.f32(x, out, output.count)
        case .f16: GGMLDequantizer.f16(x, out, output.count)
        case .bf16: GGMLDequantizer.bf16(x, out, output.count)
        default: break // excluded by the isReadableAsFloat guard
        }
    }
}
