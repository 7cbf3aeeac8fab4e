import Foundation
import ModelIO
import Yams

/// Checks on YAML a user wrote, before Yams builds Swift values from it: the text limits of
/// `TextLimits.checkYAML`, and that every mapping key is a plain value. Yams' constructor
/// force-unwraps keys as strings, so `? [a, b]: 1` or `{[x]: 1}` in a recipe trapped the process.
public enum YAMLInput {
    /// Nil when `text` may be given to `Yams.load` or `YAMLDecoder`; else why not, as a phrase
    /// ("nests more than 64 levels deep"). Syntax errors are left to the parse that follows.
    public static func problem(in text: String, maxBytes: Int) -> String? {
        if let v = TextLimits.checkYAML(text, maxBytes: maxBytes) { return v.reason }
        guard let root = try? Yams.compose(yaml: text) else { return nil }
        var stack = [root]
        while let node = stack.popLast() {
            switch node {
            case .scalar:
                break
            case let .sequence(items):
                stack.append(contentsOf: items)
            case let .mapping(pairs):
                for (key, value) in pairs {
                    guard case .scalar = key else {
                        let line = (key.mapping?.mark ?? key.sequence?.mark).map { " (line \($0.line))" } ?? ""
                        return "has a mapping key that is a list or a mapping\(line); keys must be plain names"
                    }
                    stack.append(value)
                }
            }
        }
        return nil
    }
}
