import Foundation

extension KeyedDecodingContainer {
    /// Overwrites `value` with the key's value when the key is present, so that a block's default
    /// is written once, in its property declaration.
    public func update<T: Decodable>(_ value: inout T, _ key: Key) throws {
        if let v = try decodeIfPresent(T.self, forKey: key) { value = v }
    }

    /// Same for an optional property (absent keeps `nil`).
    public func update<T: Decodable>(_ value: inout T?, _ key: Key) throws {
        if let v = try decodeIfPresent(T.self, forKey: key) { value = v }
    }
}
