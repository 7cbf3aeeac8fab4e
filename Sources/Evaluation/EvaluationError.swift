import Foundation

/// Errors of evaluation: options, corpora and benchmark files. Each says what to do.
public enum EvaluationError: LocalizedError, CustomStringConvertible, Equatable {
    case invalidOption(name: String, reason: String)
    case noTokens(language: String, reason: String)
    case badFile(path: String, reason: String)
    case unsupportedLanguage(task: String, language: String, supported: [String])

    public var description: String {
        switch self {
        case let .invalidOption(name, reason): return "--\(name): \(reason)"
        case let .noTokens(language, reason): return "language \(language): no tokens to score (\(reason)); give it a corpus with longer documents"
        case let .badFile(path, reason): return "\(path): \(reason). Fetch the data set again with `langneuron data fetch`."
        case let .unsupportedLanguage(task, language, supported):
            return "\(task) has no '\(language)' file. Languages: \(supported.joined(separator: ", "))."
        }
    }

    public var errorDescription: String? { description }
}
