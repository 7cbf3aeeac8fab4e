import Foundation

/// A fixed-size, 64-byte-aligned float32 buffer that owns its memory. Weights, activations
/// and gradients live in these so that hot loops work on raw pointers with no copy-on-write.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// A zero-filled buffer of `count` floats.
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    public func zero() { pointer.update(repeating: 0, count: count) }

    @inline(__always) public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

/// A growable scratch buffer: `ensure(n)` reallocates only when `n` exceeds the capacity,
/// so steady-state calls with the same shapes allocate nothing.
public final class Scratch {
    public private(set) var capacity = 0
    public private(set) var pointer: UnsafeMutablePointer<Float>

    public init(capacity: Int = 0) {
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(capacity, 1))
        self.capacity = max(capacity, 1)
    }

    deinit { pointer.deallocate() }

    /// Returns a pointer to at least `n` floats; contents are unspecified after growth.
    @discardableResult
    public func ensure(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > capacity {
            pointer.deallocate()
            capacity = max(n, capacity + capacity / 2)
            pointer = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        }
        return pointer
    }
}
