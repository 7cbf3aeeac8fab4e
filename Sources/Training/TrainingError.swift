import Foundation
import ModelIO

/// Errors of recipes, runs, checkpoints and deltas. Each says what to do.
public enum TrainingError: LocalizedError {
    case unknownRecipeKey(block: String, key: String, allowed: [String])
    case invalidRecipe(path: String, field: String, reason: String)
    case badOverride(String, reason: String)
    case emptyCorpus(path: String, reason: String)
    case checkpoint(path: String, reason: String)
    case delta(path: String, reason: String)
    case fingerprintMismatch(path: String, expected: String, found: String)
    case interrupted(step: Int, checkpoint: String)
    case adapterExport(path: String, reason: String)
    /// A LoRA adapter directory that cannot be merged.
    case adapter(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .unknownRecipeKey(block, key, allowed):
            return "recipe: unknown key '\(TextLimits.shown(key))' in '\(block)'. Allowed keys: \(allowed.joined(separator: ", "))."
        case let .invalidRecipe(path, field, reason):
            return "\(path): recipe field '\(TextLimits.shown(field))' \(reason)."
        case let .badOverride(text, reason):
            return "--set \(text): \(reason). Use --set block.key=value, e.g. --set optimizer.lr=1e-5."
        case let .emptyCorpus(path, reason):
            return "\(path): no training data (\(reason)). Point data.train at a dump, JSONL or text file with documents."
        case let .checkpoint(path, reason):
            return "\(path): checkpoint cannot be used (\(reason)). Start a new run or pass the right run directory."
        case let .delta(path, reason):
            return "\(path): not a usable langneuron delta (\(reason))."
        case let .fingerprintMismatch(path, expected, found):
            return "\(path): made for base model \(expected), but this model is \(found). Use the base model the file was made for."
        case let .interrupted(step, checkpoint):
            return "interrupted at step \(step); state saved to \(checkpoint). Resume with: langneuron train --resume <run dir>"
        case let .adapterExport(path, reason):
            return "\(path): cannot export the adapter: \(reason)."
        case let .adapter(path, reason):
            return "\(path): not a usable LoRA adapter directory (\(reason))."
        }
    }
}
