import Foundation

/// Where one tensor lives in a GGUF file.
public struct GGUFTensorInfo: Equatable {
    public let name: String
    /// Dimensions as GGUF lists them: innermost (contiguous) first. `[640, 1024]` is 1024 rows of 640.
    public let ggufDims: [Int]
    public let type: GGMLType
    /// Byte offset of the data, relative to the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    /// Dimensions outermost first, as PyTorch writes them (`[out, in]` for a weight matrix).
    public var shape: [Int] { ggufDims.reversed() }
    public var elementCount: Int { ggufDims.reduce(1, *) }
}

/// A parsed, memory-mapped GGUF (v2/v3) model file: header, metadata and tensor directory.
/// Tensor data stays in the map until dequantised.
public final class GGUFFile {
    public let url: URL
    public let version: UInt32
    /// Metadata in file order of keys (see `metadataKeys`) and by key.
    public let metadata: [String: GGUFValue]
    public let metadataKeys: [String]
    /// Where each metadata entry (key, type and value) lies in the file, so that a writer can
    /// copy entries byte for byte (this keeps e.g. the element type of empty arrays).
    public let metadataEntryRanges: [String: Range<Int>]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Byte offset where the tensor data section starts.
    public let dataOffset: Int
    public let file: MappedFile
    private let index: [String: Int]

    public init(url: URL) throws {
        let file = try MappedFile(url: url)
        self.file = file
        self.url = url
        let path = url.path
        var c = ByteCursor(bytes: file.bytes, path: path)
        try c.need(4, "GGUF magic")
        let magicBytes = Array(file.bytes[0..<4])
        guard magicBytes == Array("GGUF".utf8) else {
            let shown = magicBytes.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String(format: "%02x", $0) }.joined()
            throw ModelIOError.notGGUF(path: path, magic: shown)
        }
        c.offset = 4
        version = try c.read(UInt32.self, "GGUF version")
        guard version == 2 || version == 3 else {
            throw ModelIOError.unsupportedGGUFVersion(path: path, version: version)
        }
        let nTensors = try c.read(UInt64.self, "tensor count")
        let nKV = try c.read(UInt64.self, "metadata count")
        // Each entry takes at least 8+4 (kv) or 8+4+8+4 (tensor) bytes: reject absurd counts early.
        guard nKV <= UInt64(file.size / 12), nTensors <= UInt64(file.size / 24) else {
            let needed = 24.addingSaturating(Int(clamping: nKV).multipliedChecked(12) ?? .max)
                .addingSaturating(Int(clamping: nTensors).multipliedChecked(24) ?? .max)
            throw ModelIOError.truncated(path: path, needed: needed, size: file.size,
                                         what: "the header's \(nKV) metadata entries and \(nTensors) tensor entries")
        }
        var meta = [String: GGUFValue](minimumCapacity: Int(nKV))
        var keys = [String]()
        var ranges = [String: Range<Int>](minimumCapacity: Int(nKV))
        for i in 0..<Int(nKV) {
            let entryStart = c.offset
            let key = try c.readString("metadata key #\(i)")
            // ggml's loader rejects repeated keys too; which value would win is ambiguous.
            guard meta[key] == nil else {
                throw ModelIOError.malformed(path: path, field: key, reason: "metadata key appears twice")
            }
            let rawType = try c.read(UInt32.self, "type of '\(key)'")
            meta[key] = try GGUFFile.readValue(&c, type: rawType, key: key, depth: 0)
            ranges[key] = entryStart..<c.offset
            keys.append(key)
        }
        metadata = meta
        metadataEntryRanges = ranges
        metadataKeys = keys

        if let a = meta["general.alignment"] {
            // ggml writes 32; a bound keeps the rounding below from overflowing.
            guard let v = a.int, v > 0, v & (v - 1) == 0, v <= 1 << 30 else {
                throw ModelIOError.malformed(path: path, field: "general.alignment", reason: "must be a power of two up to 2^30, got \(a)")
            }
            alignment = v
        } else {
            alignment = 32
        }

        var raw = [(String, [Int], GGMLType, Int)]()
        raw.reserveCapacity(Int(nTensors))
        for i in 0..<Int(nTensors) {
            let name = try c.readString("tensor name #\(i)")
            let nDims = try c.read(UInt32.self, "dimension count of '\(name)'")
            guard nDims >= 1, nDims <= 4 else {
                throw ModelIOError.malformed(path: path, field: name, reason: "\(nDims) dimensions (expected 1...4)")
            }
            var dims = [Int]()
            for d in 0..<Int(nDims) {
                let v = try c.read(UInt64.self, "dimension \(d) of '\(name)'")
                guard v > 0, v < (1 << 40) else {
                    throw ModelIOError.malformed(path: path, field: name, reason: "dimension \(d) is \(v)")
                }
                dims.append(Int(v))
            }
            let rawType = try c.read(UInt32.self, "type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw ModelIOError.unknownTensorType(path: path, tensor: name, type: rawType)
            }
            let off = try c.read(UInt64.self, "offset of '\(name)'")
            guard off < UInt64(file.size) || file.size == 0 else {
                throw ModelIOError.truncated(path: path, needed: Int(clamping: off), size: file.size, what: "data of tensor '\(name)'")
            }
            raw.append((name, dims, type, Int(off)))
        }
        let dataStart = (c.offset + alignment - 1) / alignment * alignment
        dataOffset = dataStart
        var infos = [GGUFTensorInfo]()
        var idx = [String: Int]()
        for (name, dims, type, off) in raw {
            // Each dimension is below 2^40 but four of them can overflow Int.
            guard let count = dims.reduce(Optional(1), { $0?.multipliedChecked($1) }),
                  count.multipliedChecked(max(type.blockLayout.bytes, 1)) != nil else {
                throw ModelIOError.malformed(path: path, field: name, reason: "shape \(dims.reversed()) has more elements than a file can hold")
            }
            guard let nbytes = type.byteCount(elements: count), dims[0] % type.blockLayout.elements == 0 else {
                throw ModelIOError.malformed(path: path, field: name, reason: "row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockLayout.elements)")
            }
            let start = dataStart.addingSaturating(off)
            guard nbytes <= file.size, start <= file.size - nbytes else {
                throw ModelIOError.truncated(path: path, needed: start.addingSaturating(nbytes), size: file.size, what: "data of tensor '\(name)'")
            }
            guard idx[name] == nil else {
                throw ModelIOError.malformed(path: path, field: name, reason: "tensor name appears twice")
            }
            idx[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, ggufDims: dims, type: type, fileOffset: start, byteCount: nbytes))
        }
        tensors = infos
        index = idx
    }

    /// The tensor directory entry named `name`, if present.
    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The raw (still quantised) bytes of a tensor, inside the memory map.
    public func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.fileOffset..<(info.fileOffset + info.byteCount)])
    }

    /// Metadata value for `key`, or a `missingMetadata` error naming the file.
    public func require(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw ModelIOError.missingMetadata(path: url.path, key: key) }
        return v
    }

    /// The fewest bytes a value of GGUF type `type` takes (1 for unknown types, which fail later).
    private static func minimumValueSize(type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8  // a string is at least its u64 length
        case 9: return 12             // element type and length
        default: return 1
        }
    }

    private static func readValue(_ c: inout ByteCursor, type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try c.read(UInt8.self, "value of '\(key)'"))
        case 1: return .int8(try c.read(Int8.self, "value of '\(key)'"))
        case 2: return .uint16(try c.read(UInt16.self, "value of '\(key)'"))
        case 3: return .int16(try c.read(Int16.self, "value of '\(key)'"))
        case 4: return .uint32(try c.read(UInt32.self, "value of '\(key)'"))
        case 5: return .int32(try c.read(Int32.self, "value of '\(key)'"))
        case 6: return .float32(try c.readFloat("value of '\(key)'"))
        case 7:
            let b = try c.read(UInt8.self, "value of '\(key)'")
            guard b <= 1 else {
                throw ModelIOError.malformed(path: c.path, field: key, reason: "bool byte is \(b)")
            }
            return .bool(b == 1)
        case 8: return .string(try c.readString("value of '\(key)'"))
        case 9:
            guard depth < 4 else {
                throw ModelIOError.malformed(path: c.path, field: key, reason: "arrays nested too deeply")
            }
            let elemType = try c.read(UInt32.self, "array type of '\(key)'")
            let n = try c.read(UInt64.self, "array length of '\(key)'")
            // Every element takes at least `minimumSize` bytes, so a longer array cannot fit in the
            // file; checked before anything is reserved.
            let minimumSize = GGUFFile.minimumValueSize(type: elemType)
            guard n <= UInt64(c.remaining / minimumSize) else {
                throw ModelIOError.truncated(path: c.path, needed: c.offset.addingSaturating(Int(clamping: n).multipliedChecked(minimumSize) ?? .max),
                                             size: c.bytes.count, what: "array '\(key)' of \(n) elements")
            }
            var out = [GGUFValue]()
            out.reserveCapacity(Int(n))
            for _ in 0..<Int(n) {
                out.append(try readValue(&c, type: elemType, key: key, depth: depth + 1))
            }
            return .array(out)
        case 10: return .uint64(try c.read(UInt64.self, "value of '\(key)'"))
        case 11: return .int64(try c.read(Int64.self, "value of '\(key)'"))
        case 12: return .float64(try c.readDouble("value of '\(key)'"))
        default:
            throw ModelIOError.unknownValueType(path: c.path, key: key, type: type)
        }
    }
}
