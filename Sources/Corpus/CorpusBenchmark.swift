#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd
import Foundation

/// Throughput measurement for dump processing (decompress + parse + clean on one core).
public enum CorpusBenchmark {
    /// One timed input.
    public struct Result: Sendable {
        /// Decompressed (XML) bytes processed per run.
        public var xmlBytes: Int
        /// Documents produced per run.
        public var documents: Int
        /// Best CPU time of the reading thread over the runs, in seconds (robust on a busy machine).
        public var seconds: Double
        /// Wall time of that same run.
        public var wallSeconds: Double
        /// Decompressed megabytes (10^6 bytes) per CPU second on one core.
        public var megabytesPerSecond: Double { Double(xmlBytes) / 1e6 / seconds }

        /// A JSON-ready dictionary.
        public func json(label: String) -> [String: Any] {
            ["input": label, "xml_mb": Double(xmlBytes) / 1e6, "documents": documents, "cpu_seconds": seconds,
             "wall_seconds": wallSeconds, "mb_per_s": megabytesPerSecond]
        }
    }

    /// Runs `makeReader` `runs` times, reading every document; keeps the fastest run.
    public static func time(runs: Int, _ makeReader: () throws -> DocumentReader) throws -> Result {
        var best = Double.infinity
        var bestWall = 0.0
        var bytes = 0
        var docs = 0
        for _ in 0..<max(runs, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = threadCPUSeconds()
            let reader = try makeReader()
            var n = 0
            var sink = 0
            while let d = try reader.next() {
                n += 1
                sink &+= d.text.utf8.count
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpu = threadCPUSeconds() - cpuStart
            if sink < 0 { print(sink) }  // keeps the loop from being optimised away
            if cpu < best {
                best = cpu
                bestWall = wall
            }
            bytes = reader.report.decodedBytes
            docs = n
        }
        return Result(xmlBytes: bytes, documents: docs, seconds: best, wallSeconds: bestWall)
    }

    /// CPU time consumed by the calling thread.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// A larger dump: the source's header, its complete pages repeated `times` times, and the
    /// closing tag — as uncompressed XML and zstd (level 3).
    public static func repeatedDump(path: String, times: Int) throws -> (xml: [UInt8], zstd: [UInt8]) {
        let raw = try decompressedBytes(path: path)
        guard let firstPage = find("<page>", in: raw, from: 0),
              let lastPageEnd = findLast("</page>", in: raw) else {
            throw CorpusError.unsupportedFormat(path: path, detail: "no complete <page> to repeat")
        }
        let header = raw[0..<firstPage]
        let pages = raw[firstPage..<(lastPageEnd + 7)]
        var xml: [UInt8] = []
        xml.reserveCapacity(header.count + pages.count * times + 32)
        xml.append(contentsOf: header)
        for _ in 0..<times {
            xml.append(contentsOf: pages)
            xml.append(0x0A)
        }
        xml.append(contentsOf: Array("</mediawiki>\n".utf8))
        let bound = ZSTD_compressBound(xml.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = xml.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, 3)
            }
        }
        guard ZSTD_isError(n) == 0 else {
            throw CorpusError.decompressionFailed(path: path, codec: "zstd", reason: String(cString: ZSTD_getErrorName(n)))
        }
        out.removeLast(out.count - n)
        return (xml, out)
    }

    /// The decompressed content of a file (benchmarks only: holds it all in memory).
    static func decompressedBytes(path: String) throws -> [UInt8] {
        let file = try FileByteSource(path: path)
        var magic = [UInt8](repeating: 0, count: 4)
        let got = try magic.withUnsafeMutableBytes { try file.read(into: $0) }
        magic.removeLast(4 - got)
        let replay = PrefixedByteSource(prefix: magic, inner: file)
        let source: ByteSource
        if magic == [0x28, 0xB5, 0x2F, 0xFD] {
            source = try ZstdByteSource(inner: replay, path: path)
        } else if magic.count == 4, magic[0] == 0x42, magic[1] == 0x5A, magic[2] == 0x68 {
            source = try Bzip2ByteSource(inner: replay, path: path)
        } else {
            source = replay
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    private static func find(_ needle: StaticString, in hay: [UInt8], from: Int) -> Int? {
        hay.withUnsafeBufferPointer { findBytes(needle, in: $0, from: from) }
    }

    /// Last occurrence of `needle`: scans backwards with memcmp.
    private static func findLast(_ needle: StaticString, in hay: [UInt8]) -> Int? {
        let m = needle.utf8CodeUnitCount
        guard m <= hay.count else { return nil }
        return hay.withUnsafeBufferPointer { buf -> Int? in
            guard let base = buf.baseAddress else { return nil }
            var i = buf.count - m
            while i >= 0 {
                if memcmp(base + i, needle.utf8Start, m) == 0 { return i }
                i -= 1
            }
            return nil
        }
    }
}
