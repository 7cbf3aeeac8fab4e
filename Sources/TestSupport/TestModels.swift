import Foundation

/// Finds the default model files for tests: `$LANGNEURON_MODELS`, else `<repo>/checkpoints/base`.
public enum TestModels {
    public static let gemmaFile = "gemma-3-270m-q4_k_m.gguf"
    public static let smolFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["LANGNEURON_MODELS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return SharedData.repositoryRoot.appendingPathComponent("checkpoints/base")
    }

    /// The URL of a model file when present, else nil (callers skip).
    public static func url(_ file: String) -> URL? {
        let u = directory.appendingPathComponent(file)
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }
}
