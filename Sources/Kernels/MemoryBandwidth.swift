import Foundation

/// Measured memory bandwidth: the limit batch-1 decoding can reach, since one decoding step
/// reads every stored weight byte once. Buffers are far larger than the caches.
public enum MemoryBandwidth {
    public struct Result {
        /// memcpy over all cores, bytes read + bytes written per second.
        public let copyGBs: Double
        /// Streaming reads over all cores (a float sum), bytes read per second.
        public let readGBs: Double
    }

    /// Best of repeated passes over a `megabytes` buffer split over `threads` threads.
    public static func measure(megabytes: Int = 512, repeats: Int = 5,
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Result {
        let n = megabytes << 20
        let src = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        let dst = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        defer { src.deallocate(); dst.deallocate() }
        memset(src, 1, n); memset(dst, 0, n)
        let parts = max(1, threads), step = n / parts / 64 * 64
        func time(_ body: (Int) -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                DispatchQueue.concurrentPerform(iterations: parts, execute: body)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return best
        }
        let copy = time { p in memcpy(dst + p * step, src + p * step, step) }
        var sink = [Float](repeating: 0, count: parts)
        let read = sink.withUnsafeMutableBufferPointer { out in
            time { p in
                let f = (src + p * step).assumingMemoryBound(to: SIMD16<Float>.self)
                var a = SIMD16<Float>(), b = SIMD16<Float>()
                let count = step / 64
                var i = 0
                while i + 1 < count { a += f[i]; b += f[i + 1]; i += 2 }
                out[p] = (a + b).sum()
            }
        }
        _ = sink
        return Result(copyGBs: 2 * Double(parts * step) / copy / 1e9, readGBs: Double(parts * step) / read / 1e9)
    }
}
