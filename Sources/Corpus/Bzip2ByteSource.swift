import CBz2

/// Streaming bzip2 decompression with libbz2. Handles multistream files (Wikimedia's
/// `-multistream` dumps and `pbzip2` output are concatenated bzip2 streams) by
/// re-initialising the decoder at each stream end.
final class Bzip2ByteSource: ByteSource {
    private let inner: ByteSource
    private let path: String
    private var stream = bz_stream()
    private var active = false
    private let inCapacity = 1 << 20
    private let inBuffer: UnsafeMutablePointer<UInt8>
    private var inputEOF = false
    private var finished = false
    private var producedInStream = false
    private(set) var truncation: String?
    private(set) var isCorrupt = false
    var compressedBytesRead: Int { inner.compressedBytesRead }

    init(inner: ByteSource, path: String) throws {
        self.inner = inner
        self.path = path
        inBuffer = .allocate(capacity: inCapacity)
        try startStream()
    }

    deinit {
        if active { BZ2_bzDecompressEnd(&stream) }
        inBuffer.deallocate()
    }

    private func startStream() throws {
        let keepIn = stream.next_in
        let keepAvail = stream.avail_in
        stream = bz_stream()
        stream.next_in = keepIn
        stream.avail_in = keepAvail
        let rc = BZ2_bzDecompressInit(&stream, 0, 0)
        guard rc == BZ_OK else {
            throw CorpusError.decompressionFailed(path: path, codec: "bzip2", reason: "BZ2_bzDecompressInit returned \(rc)")
        }
        active = true
        producedInStream = false
    }

    private func refill() throws {
        guard stream.avail_in == 0, !inputEOF else { return }
        let n = try inner.read(into: UnsafeMutableRawBufferPointer(start: inBuffer, count: inCapacity))
        if n == 0 { inputEOF = true }
        stream.next_in = UnsafeMutableRawPointer(inBuffer).assumingMemoryBound(to: CChar.self)
        stream.avail_in = UInt32(n)
    }

    /// After a stream end: is another bzip2 stream following (magic "BZh")?
    private func anotherStreamFollows() throws -> Bool {
        try refill()
        if stream.avail_in == 0 { return false }
        // The magic may straddle the buffer end; only the first byte is checked strictly.
        let first = UInt8(bitPattern: stream.next_in.pointee)
        return first == UInt8(ascii: "B")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            try refill()
            stream.next_out = base.assumingMemoryBound(to: CChar.self)
            stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
            let before = stream.avail_out
            let rc = BZ2_bzDecompress(&stream)
            let produced = Int(before - stream.avail_out)
            if produced > 0 { producedInStream = true }
            if rc == BZ_STREAM_END {
                BZ2_bzDecompressEnd(&stream)
                active = false
                if try anotherStreamFollows() {
                    try startStream()
                } else {
                    finished = true
                }
                if produced > 0 || finished { return produced }
                continue
            }
            if rc != BZ_OK {
                // A corrupt block: keep what was decoded and report the cut.
                truncation = "bzip2 data error \(rc) after \(inner.compressedBytesRead) compressed bytes"
                isCorrupt = true
                finished = true
                return produced
            }
            if produced > 0 { return produced }
            if inputEOF && stream.avail_in == 0 {
                truncation = "bzip2 stream ends without its end-of-stream marker (file cut short)"
                finished = true
                return 0
            }
        }
    }
}
