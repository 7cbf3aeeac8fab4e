/// One GGUF metadata value, of any of the format's value types.
public enum GGUFValue: Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// The value as an integer, for any integer type (nil otherwise or when out of range).
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a floating-point number, for float and integer types.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return int.map(Double.init)
        }
    }

    public var bool: Bool? { if case let .bool(v) = self { return v } else { return nil } }
    public var string: String? { if case let .string(v) = self { return v } else { return nil } }
    public var array: [GGUFValue]? { if case let .array(v) = self { return v } else { return nil } }
    /// An array of strings (nil when not an array or an element is not a string).
    public var stringArray: [String]? {
        guard case let .array(a) = self else { return nil }
        var out = [String]()
        out.reserveCapacity(a.count)
        for v in a { guard case let .string(s) = v else { return nil }; out.append(s) }
        return out
    }
    /// An array of numbers as Double (nil when not an array of numbers).
    public var doubleArray: [Double]? {
        guard case let .array(a) = self else { return nil }
        var out = [Double]()
        out.reserveCapacity(a.count)
        for v in a { guard let d = v.double else { return nil }; out.append(d) }
        return out
    }
    /// An array of integers (nil when not an array of integers).
    public var intArray: [Int]? {
        guard case let .array(a) = self else { return nil }
        var out = [Int]()
        out.reserveCapacity(a.count)
        for v in a { guard let d = v.int else { return nil }; out.append(d) }
        return out
    }
}
