import Foundation

/// Locates the read-only `shared/` folder (spec, data samples, PyTorch reference numbers)
/// that sits beside the repository in development and CI. Users of the tool never need it.
public enum SharedData {
    /// The repository root: the nearest ancestor of this source file holding `Package.swift`.
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `$LANGNEURON_SHARED` if set, else `<repo>/../shared`.
    public static let root: URL = {
        if let env = ProcessInfo.processInfo.environment["LANGNEURON_SHARED"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// A path inside `shared/`, e.g. `SharedData.url("data/wiki/enwiki-sample.xml.bz2")`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Whether `shared/` is present (tests that need it are skipped with a message otherwise).
    public static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("reference").path)
    }

    /// Parses `reference/<name>/manifest.json` (`name` e.g. `gemma3-270m` or `tiny/llama`).
    public static func manifest(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url("reference/\(name)/manifest.json"))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "SharedData", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "manifest \(name) is not a JSON object"])
        }
        return obj
    }
}
