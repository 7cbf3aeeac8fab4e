import CZstd
import Foundation
import ModelIO

/// Streaming zstd (de)compression of files through libzstd.
enum ZstdCompressor {
    /// The linked libzstd's version, e.g. 10504 for 1.5.4 (the frame bytes depend on it).
    static var libraryVersion: UInt32 { ZSTD_versionNumber() }

    /// Compresses `input` into `output` at `level`, with a content checksum and no content size in
    /// the frame header, as `zstd -19 < in > out` does.
    static func compress(_ input: URL, to output: URL, level: Int32) throws {
        guard let cctx = ZSTD_createCCtx() else {
            throw StoreError.compressionFailed(file: input.path, reason: "cannot allocate a compression context")
        }
        defer { ZSTD_freeCCtx(cctx) }
        for (param, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1)] {
            let rc = ZSTD_CCtx_setParameter(cctx, param, value)
            if ZSTD_isError(rc) != 0 {
                throw StoreError.compressionFailed(file: input.path, reason: String(cString: ZSTD_getErrorName(rc)))
            }
        }
        // The zstd CLI (1.5.x) compresses with one worker thread by default, which cuts the frame
        // differently from single-threaded mode; matching it makes the output byte-identical to
        // `zstd -19` of the same libzstd version. A library built without threads keeps mode 0,
        // whose output is equally valid.
        _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, 1)
        let reader: FileHandle
        do { reader = try FileHandle(forReadingFrom: input) } catch {
            throw StoreError.ioFailed(path: input.path, reason: error.localizedDescription)
        }
        defer { try? reader.close() }
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              let writer = try? FileHandle(forWritingTo: output) else {
            throw StoreError.ioFailed(path: output.path, reason: "cannot create the file")
        }
        defer { try? writer.close() }

        let outCapacity = ZSTD_CStreamOutSize()
        var outBuffer = [UInt8](repeating: 0, count: outCapacity)
        var finished = false
        while !finished {
            let chunk = (try reader.read(upToCount: ZSTD_CStreamInSize())) ?? Data()
            let mode = chunk.isEmpty ? ZSTD_e_end : ZSTD_e_continue
            try chunk.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
                var inBuf = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
                var done = false
                while !done {
                    let (remaining, produced) = outBuffer.withUnsafeMutableBytes { dst -> (Int, Int) in
                        var outBuf = ZSTD_outBuffer(dst: dst.baseAddress, size: outCapacity, pos: 0)
                        let r = ZSTD_compressStream2(cctx, &outBuf, &inBuf, mode)
                        return (r, outBuf.pos)
                    }
                    if ZSTD_isError(remaining) != 0 {
                        throw StoreError.compressionFailed(file: input.path,
                                                           reason: String(cString: ZSTD_getErrorName(remaining)))
                    }
                    if produced > 0 { try writer.write(contentsOf: outBuffer[0..<produced]) }
                    // Continue mode: done once the input is consumed; end mode: once the frame is flushed.
                    done = mode == ZSTD_e_end ? remaining == 0 : inBuf.pos == inBuf.size
                }
            }
            finished = chunk.isEmpty
        }
    }

    /// Size and SHA-256 of the decompressed content of a `.zst` file.
    static func contentDigest(of input: URL) throws -> (size: Int64, sha256: String) {
        guard let dctx = ZSTD_createDCtx() else {
            throw StoreError.compressionFailed(file: input.path, reason: "cannot allocate a decompression context")
        }
        defer { ZSTD_freeDCtx(dctx) }
        let reader: FileHandle
        do { reader = try FileHandle(forReadingFrom: input) } catch {
            throw StoreError.ioFailed(path: input.path, reason: error.localizedDescription)
        }
        defer { try? reader.close() }
        var hasher = SHA256Hasher()
        var total: Int64 = 0
        let outCapacity = ZSTD_DStreamOutSize()
        var outBuffer = [UInt8](repeating: 0, count: outCapacity)
        var lastResult = 0
        while let chunk = try reader.read(upToCount: ZSTD_DStreamInSize()), !chunk.isEmpty {
            try chunk.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
                var inBuf = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
                while true {
                    let (r, produced) = outBuffer.withUnsafeMutableBytes { dst -> (Int, Int) in
                        var outBuf = ZSTD_outBuffer(dst: dst.baseAddress, size: outCapacity, pos: 0)
                        let r = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                        return (r, outBuf.pos)
                    }
                    if ZSTD_isError(r) != 0 {
                        throw StoreError.compressionFailed(file: input.path, reason: String(cString: ZSTD_getErrorName(r)))
                    }
                    lastResult = r
                    outBuffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                    total += Int64(produced)
                    // A full output buffer may hide more pending output for the same input.
                    if inBuf.pos == inBuf.size && produced < outCapacity { break }
                }
            }
        }
        if lastResult != 0 {
            throw StoreError.compressionFailed(file: input.path, reason: "the zstd stream is truncated")
        }
        return (total, hasher.finalizeHex())
    }
}
