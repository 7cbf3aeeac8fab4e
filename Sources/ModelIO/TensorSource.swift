import Foundation

/// Anything that can hand out a model's tensors as float32 (GGUF files, safetensors, directories).
public protocol TensorSource: AnyObject {
    /// Names of all tensors.
    var tensorNames: [String] { get }
    /// Shape outermost first (`[out, in]` for a weight matrix), nil when absent.
    func shape(of name: String) -> [Int]?
    /// The stored element type (e.g. "Q4_K", "BF16"), nil when absent.
    func storageType(of name: String) -> String?
    /// Dequantises the whole tensor, row-major in `shape` order.
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws
    /// Dequantises rows `rows` of the tensor viewed as `[shape[0], rest]`.
    func readFloats(_ name: String, rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws
}
