import CZstd

/// Streaming zstd decompression with libzstd; consecutive frames are read as one stream.
final class ZstdByteSource: ByteSource {
    private let inner: ByteSource
    private let path: String
    private let dctx: OpaquePointer
    private let inCapacity = ZSTD_DStreamInSize()
    private let inBuffer: UnsafeMutableRawPointer
    private var inPos = 0
    private var inSize = 0
    private var inputEOF = false
    private var finished = false
    private var frameOpen = false
    private(set) var truncation: String?
    private(set) var isCorrupt = false
    var compressedBytesRead: Int { inner.compressedBytesRead }

    init(inner: ByteSource, path: String) throws {
        guard let dctx = ZSTD_createDCtx() else {
            throw CorpusError.decompressionFailed(path: path, codec: "zstd", reason: "ZSTD_createDCtx failed")
        }
        self.inner = inner
        self.path = path
        self.dctx = dctx
        inBuffer = .allocate(byteCount: inCapacity, alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        inBuffer.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            if inPos == inSize && !inputEOF {
                inSize = try inner.read(into: UnsafeMutableRawBufferPointer(start: inBuffer, count: inCapacity))
                inPos = 0
                if inSize == 0 { inputEOF = true }
            }
            if inPos == inSize && inputEOF {
                if frameOpen { truncation = "zstd frame is incomplete (file cut short)" }
                finished = true
                return 0
            }
            var input = ZSTD_inBuffer(src: inBuffer, size: inSize, pos: inPos)
            var output = ZSTD_outBuffer(dst: base, size: buffer.count, pos: 0)
            let rc = ZSTD_decompressStream(dctx, &output, &input)
            inPos = input.pos
            if ZSTD_isError(rc) != 0 {
                truncation = "zstd error: \(String(cString: ZSTD_getErrorName(rc)))"
                isCorrupt = true
                finished = true
                return output.pos
            }
            frameOpen = rc != 0
            if output.pos > 0 { return output.pos }
        }
    }
}
