import Foundation

/// The folder holding the default models: `$LANGNEURON_MODELS`, else `./checkpoints/base`.
public struct ModelStore: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory.standardizedFileURL
    }

    /// The models folder from the environment and the current directory.
    public static var `default`: ModelStore {
        fromEnvironment(ProcessInfo.processInfo.environment,
                        currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// The models folder for a given environment (`LANGNEURON_MODELS`, relative to `currentDirectory`
    /// if not absolute) and current directory.
    public static func fromEnvironment(_ environment: [String: String], currentDirectory: URL) -> ModelStore {
        if let env = environment["LANGNEURON_MODELS"], !env.isEmpty {
            let url = env.hasPrefix("/") ? URL(fileURLWithPath: env, isDirectory: true)
                : currentDirectory.appendingPathComponent(env, isDirectory: true)
            return ModelStore(directory: url)
        }
        return ModelStore(directory: currentDirectory.appendingPathComponent("checkpoints/base", isDirectory: true))
    }

    /// Where `model` is stored.
    public func path(for model: DefaultModel) -> URL {
        directory.appendingPathComponent(model.fileName)
    }

    /// Whether `model`'s file is present with the right size (cheap; `ModelFetcher` checks the hash).
    public func isPresent(_ model: DefaultModel) -> Bool {
        FileOps.size(of: path(for: model)) == model.size
    }
}
