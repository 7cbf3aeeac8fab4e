import Foundation

/// Rejects keys a recipe block does not define — a typo must not silently fall back to a default.
public enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    public static func check(_ decoder: Decoder, _ allowed: [String], block: String) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for k in c.allKeys where !allowed.contains(k.stringValue) {
            throw TrainingError.unknownRecipeKey(block: block, key: k.stringValue, allowed: allowed)
        }
    }
}
