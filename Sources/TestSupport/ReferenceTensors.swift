import Foundation

/// Reads the reference `tensors.safetensors` files (float64/float32, written by PyTorch) into
/// Double arrays. Deliberately independent of ModelIO's reader, which it is used to check.
public final class ReferenceTensors {
    public let shapes: [String: [Int]]
    private let data: Data
    private let entries: [String: (dtype: String, start: Int, end: Int)]

    public init(url: URL) throws {
        data = try Data(contentsOf: url, options: .alwaysMapped)
        guard data.count >= 8 else { throw NSError(domain: "ReferenceTensors", code: 1) }
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] ?? [:]
        var e = [String: (String, Int, Int)](), s = [String: [Int]]()
        for (k, v) in header where k != "__metadata__" {
            guard let d = v as? [String: Any], let dt = d["dtype"] as? String, let sh = d["shape"] as? [Int],
                  let off = d["data_offsets"] as? [Int], off.count == 2 else { continue }
            e[k] = (dt, 8 + n + off[0], 8 + n + off[1])
            s[k] = sh
        }
        entries = e
        shapes = s
    }

    public var names: [String] { entries.keys.sorted() }

    /// The tensor as Double values, row-major.
    public func doubles(_ name: String) throws -> [Double] {
        guard let e = entries[name] else {
            throw NSError(domain: "ReferenceTensors", code: 2, userInfo: [NSLocalizedDescriptionKey: "no reference tensor \(name)"])
        }
        return data.subdata(in: e.start..<e.end).withUnsafeBytes { raw -> [Double] in
            switch e.dtype {
            case "F64": return (0..<(raw.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            case "F32": return (0..<(raw.count / 4)).map { Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }
            default: return []
            }
        }
    }
}

/// Relative L2 error `‖a − b‖ / ‖b‖`.
public func relativeL2(_ a: [Double], _ b: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) { num += (x - y) * (x - y); den += y * y }
    return (num / max(den, 1e-300)).squareRoot()
}
