extension GGUFFile {
    /// Number of rows of a tensor: the product of all but its innermost dimension
    /// (`shape.dropLast()`), each row holding `ggufDims[0]` values.
    public static func rowCount(_ info: GGUFTensorInfo) -> Int { info.elementCount / info.ggufDims[0] }

    /// Dequantises a whole tensor to float32, row-major in `shape` order (outermost first):
    /// a GGUF tensor listed as `[640, 1024]` yields 1024 rows of 640 values.
    /// `output.count` must equal `info.elementCount`.
    public func dequantize(_ info: GGUFTensorInfo, into output: UnsafeMutableBufferPointer<Float>) throws {
        try dequantize(info, rows: 0..<GGUFFile.rowCount(info), into: output)
    }

    /// Dequantises rows `rows` of a tensor (a row = `ggufDims[0]` contiguous values; for a
    /// tensor of more than two dimensions the outer dimensions are flattened) into `output`,
    /// which must hold exactly `rows.count * ggufDims[0]` values. Used for embedding lookups
    /// and for touching only some rows of a weight matrix.
    public func dequantize(_ info: GGUFTensorInfo, rows: Range<Int>,
                           into output: UnsafeMutableBufferPointer<Float>) throws {
        let rowLength = info.ggufDims[0]
        let nRows = GGUFFile.rowCount(info)
        guard rows.lowerBound >= 0, rows.upperBound <= nRows else {
            throw ModelIOError.rowsOutOfRange(path: url.path, tensor: info.name, rows: rows, rowCount: nRows)
        }
        guard output.count == rows.count * rowLength else {
            throw ModelIOError.bufferSizeMismatch(path: url.path, tensor: info.name,
                                                  expected: rows.count * rowLength, got: output.count)
        }
        guard GGMLDequantizer.supportedTypes.contains(info.type) else {
            throw ModelIOError.unsupportedTensorType(path: url.path, tensor: info.name, type: info.type.description)
        }
        guard let out = output.baseAddress, !rows.isEmpty else { return }
        let (perBlock, blockBytes) = info.type.blockLayout
        // The parser guarantees rowLength % perBlock == 0, so every row starts on a block.
        let rowBytes = rowLength / perBlock * blockBytes
        let start = info.fileOffset + rows.lowerBound * rowBytes
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + rows.count * rowBytes)])
        try GGMLDequantizer.run(info.type, bytes: bytes, into: out, elements: output.count,
                                unsupported: ModelIOError.unsupportedTensorType(path: url.path, tensor: info.name,
                                                                                type: info.type.description))
    }

    /// The whole tensor `name` dequantised to float32 (see `dequantize(_:into:)` for the layout).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensorInfo(name) else { throw ModelIOError.missingTensor(path: url.path, tensor: name) }
        guard GGMLDequantizer.supportedTypes.contains(info.type) else {
            throw ModelIOError.unsupportedTensorType(path: url.path, tensor: name, type: info.type.description)
        }
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buf, initialized in
            try dequantize(info, into: buf)
            initialized = info.elementCount
        }
    }
}
