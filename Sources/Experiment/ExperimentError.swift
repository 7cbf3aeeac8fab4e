import Foundation

/// Errors of the experiment layer: its recipe, its step records, its report inputs.
public enum ExperimentError: Error, LocalizedError, Equatable {
    /// A recipe value that is missing, of the wrong type or out of range.
    case invalidRecipe(path: String, field: String, reason: String)
    /// A finished step whose settings differ from what the recipe asks for now.
    case stepChanged(path: String, step: String, differences: String)
    /// A file the experiment wrote or reads back that is not what it should be.
    case badFile(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidRecipe(path, field, reason):
            return "\(path): '\(field)' \(reason)"
        case let .stepChanged(path, step, differences):
            return "\(path)/\(step) was made with other settings than this recipe asks for (differences: \(differences)). "
                + "Delete it to redo that step (and the steps after it), or set another `output`."
        case let .badFile(path, reason):
            return "\(path): \(reason)"
        }
    }
}
