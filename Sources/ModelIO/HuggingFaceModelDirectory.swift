import Foundation

/// A Hugging Face checkpoint directory: `config.json`, safetensors weights (single file or
/// sharded with an index), and optionally `tokenizer.json`.
public final class HuggingFaceModelDirectory {
    public let url: URL
    /// `config.json` as raw bytes (for decoding with Codable) …
    public let configData: Data
    /// … and parsed as a JSON object.
    public let config: [String: Any]
    /// All weights, across shards.
    public let weights: SafetensorsCollection
    /// `tokenizer.json` when the directory has one.
    public let tokenizerURL: URL?

    public init(url: URL) throws {
        self.url = url
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelIOError.cannotOpen(path: url.path, reason: "not a directory (expected a Hugging Face model directory with config.json)")
        }
        let configURL = url.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw ModelIOError.missingFile(path: configURL.path, what: "config.json of a Hugging Face model directory")
        }
        do { configData = try Data(contentsOf: configURL) } catch {
            throw ModelIOError.cannotOpen(path: configURL.path, reason: error.localizedDescription)
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: configData)) as? [String: Any] else {
            throw ModelIOError.malformed(path: configURL.path, field: "config", reason: "not a JSON object")
        }
        config = obj
        weights = try SafetensorsCollection(directory: url)
        let tok = url.appendingPathComponent("tokenizer.json")
        tokenizerURL = FileManager.default.fileExists(atPath: tok.path) ? tok : nil
    }

    /// Whether `url` looks like a Hugging Face model directory (has `config.json`).
    public static func isModelDirectory(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path)
    }
}
