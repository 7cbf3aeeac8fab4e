import Foundation

/// Writes GGUF v3 files derived from an existing one (used by `merge`): the source's metadata
/// and tensors are copied byte for byte, in file order, except for the tensors being
/// replaced, which are written as F32 with the same name and shape. Layout: header, metadata,
/// tensor directory, zero padding to the source's alignment, then each tensor's data padded
/// to the alignment (as ggml writes it). The file is written atomically and deterministically.
public enum GGUFWriter {
    /// Copies `source` to `url`, replacing the tensors in `replacements` (name → float32 values
    /// in the tensor's `shape` order, i.e. the layout `dequantize` produces) by F32 tensors.
    /// `metadata` entries replace the source value of an existing key (keeping its position)
    /// or are appended in the given order.
    public static func write(copying source: GGUFFile, replacing replacements: [String: [Float]],
                             metadata overrides: [(key: String, value: GGUFValue)] = [], to url: URL) throws {
        for (name, values) in replacements {
            guard let info = source.tensorInfo(name) else {
                throw ModelIOError.missingTensor(path: source.url.path, tensor: name)
            }
            guard values.count == info.elementCount else {
                throw ModelIOError.bufferSizeMismatch(path: url.path, tensor: name, expected: info.elementCount, got: values.count)
            }
        }
        var header = ByteSink()
        header.append(Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(source.tensors.count))

        // Metadata: source entries verbatim unless overridden; new keys after them.
        var overrideByKey = [String: GGUFValue]()
        var newKeys = [String]()
        for (k, v) in overrides {
            if overrideByKey[k] == nil, source.metadata[k] == nil { newKeys.append(k) }
            overrideByKey[k] = v
        }
        if let a = overrideByKey["general.alignment"], a.int != source.alignment {
            throw ModelIOError.writeFailed(path: url.path, reason: "general.alignment cannot be changed when copying a GGUF file")
        }
        header.append(UInt64(source.metadataKeys.count + newKeys.count))
        for key in source.metadataKeys {
            if let v = overrideByKey[key] {
                try header.appendEntry(key: key, value: v, path: url.path)
            } else if let r = source.metadataEntryRanges[key] {
                header.append(UnsafeRawBufferPointer(rebasing: source.file.bytes[r]))
            }
        }
        for key in newKeys {
            if let v = overrideByKey[key] { try header.appendEntry(key: key, value: v, path: url.path) }
        }

        // Tensor directory with offsets recomputed for the new sizes.
        let alignment = source.alignment
        var offset = 0
        var sizes = [Int]()
        for info in source.tensors {
            let replaced = replacements[info.name] != nil
            header.appendString(info.name)
            header.append(UInt32(info.ggufDims.count))
            for d in info.ggufDims { header.append(UInt64(d)) }
            header.append(replaced ? GGMLType.f32.rawValue : info.type.rawValue)
            header.append(UInt64(offset))
            let size = replaced ? info.elementCount * 4 : info.byteCount
            sizes.append(size)
            offset += pad(size, alignment)
        }
        let headerPadding = pad(header.bytes.count, alignment) - header.bytes.count

        let w = try AtomicFileWriter(destination: url)
        try w.write(header.bytes)
        try w.writeZeros(headerPadding)
        for (info, size) in zip(source.tensors, sizes) {
            if let values = replacements[info.name] {
                // Host and file are little-endian: the float array's bytes are the F32 data.
                try values.withUnsafeBytes { try w.write($0) }
            } else {
                try w.write(source.rawBytes(info))
            }
            try w.writeZeros(pad(size, alignment) - size)
        }
        try w.commit()
    }

    static func pad(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// Little-endian serialisation of GGUF header pieces.
struct ByteSink {
    var bytes: [UInt8] = []

    mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func appendString(_ s: String) {
        let u = Array(s.utf8)
        append(UInt64(u.count))
        bytes.append(contentsOf: u)
    }

    /// The GGUF value-type id of a value (arrays: 9).
    static func typeID(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    mutating func appendEntry(key: String, value: GGUFValue, path: String) throws {
        appendString(key)
        append(ByteSink.typeID(value))
        try appendValue(value, key: key, path: path)
    }

    mutating func appendValue(_ v: GGUFValue, key: String, path: String) throws {
        switch v {
        case let .uint8(x): append(x)
        case let .int8(x): append(x)
        case let .uint16(x): append(x)
        case let .int16(x): append(x)
        case let .uint32(x): append(x)
        case let .int32(x): append(x)
        case let .uint64(x): append(x)
        case let .int64(x): append(x)
        case let .float32(x): append(x.bitPattern)
        case let .float64(x): append(x.bitPattern)
        case let .bool(x): append(UInt8(x ? 1 : 0))
        case let .string(s): appendString(s)
        case let .array(a):
            // The element type is taken from the elements, which must all share it; an empty
            // array has no element type to write.
            guard let first = a.first else {
                throw ModelIOError.writeFailed(path: path, reason: "metadata '\(key)': cannot write an empty array (no element type)")
            }
            let t = ByteSink.typeID(first)
            guard a.allSatisfy({ ByteSink.typeID($0) == t }) else {
                throw ModelIOError.writeFailed(path: path, reason: "metadata '\(key)': array elements of different types")
            }
            append(t)
            append(UInt64(a.count))
            for e in a { try appendValue(e, key: key, path: path) }
        }
    }
}
