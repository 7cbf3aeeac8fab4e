/// One format's parser over a decompressed stream.
protocol RecordParser: AnyObject {
    /// The next document, or nil at the end; updates counts and skips in `report`.
    func next(report: inout ReadReport) throws -> Document?
}

/// Splits a stream into lines without copying; lines may be arbitrarily long up to `maxLineBytes`.
struct LineScanner {
    let buffer: StreamBuffer
    /// Lines longer than this are skipped (memory bound).
    static let maxLineBytes = 256 << 20
    private var scanOffset = 0
    private var skippingLongLine = false
    private(set) var lineNumber = 0
    private(set) var longLinesSkipped = 0
    /// The final line had no newline (possibly cut short).
    private(set) var lastLineUnterminated = false

    init(buffer: StreamBuffer) { self.buffer = buffer }

    /// Calls `body` with the next line (without `\n` / `\r\n`); returns false at end of stream.
    mutating func nextLine<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) throws -> R? {
        while true {
            if let nl = buffer.find(byte: 0x0A, from: buffer.start + scanOffset) {
                let lineStart = buffer.start
                buffer.start = nl + 1
                scanOffset = 0
                lineNumber += 1
                if skippingLongLine {
                    skippingLongLine = false
                    continue
                }
                var end = nl
                if end > lineStart, buffer.base[end - 1] == 0x0D { end -= 1 }
                return body(buffer.slice(lineStart, end))
            }
            scanOffset = buffer.count
            if buffer.count > Self.maxLineBytes {
                skippingLongLine = true
                longLinesSkipped += 1
                buffer.start = buffer.end
                scanOffset = 0
            }
            if !(try buffer.fill()) {
                guard buffer.count > 0, !skippingLongLine else { return nil }
                lineNumber += 1
                lastLineUnterminated = true
                let line = buffer.slice(buffer.start, buffer.end)
                buffer.start = buffer.end
                scanOffset = 0
                return body(line)
            }
        }
    }
}
