import Foundation
import Kernels
import ModelIO
import Tokenizers

/// A model ready to run: network, tokenizer, and the identity later artefacts record.
public final class LoadedModel {
    public let url: URL
    public let transformer: Transformer
    public let tokenizer: Tokenizer
    /// SHA-256 identifying the base weights (see `ModelFingerprint`). Computed on first use
    /// (reading a 4 GB file takes seconds; loading does not), then cached on disk by path, size
    /// and modification time. A file that cannot be read yields a value no delta matches.
    public var fingerprint: String {
        fingerprintLock.lock()
        defer { fingerprintLock.unlock() }
        if let f = knownFingerprint { return f }
        let f: String
        do { f = try ModelFingerprint.of(url: url) } catch { f = "unreadable: \(error.localizedDescription)" }
        knownFingerprint = f
        return f
    }

    /// The fingerprint if it is known without reading the weights (given at load or cached), else nil.
    public var fingerprintIfCheap: String? {
        fingerprintLock.lock()
        defer { fingerprintLock.unlock() }
        if let f = knownFingerprint { return f }
        if let f = try? ModelFingerprint.of(url: url, onlyCached: true) { knownFingerprint = f; return f }
        return nil
    }

    private var knownFingerprint: String?
    private let fingerprintLock = NSLock()
    /// Storage type of each tensor, by count (e.g. ["Q4_K": 27, "F32": 109]).
    public let storageTypes: [String: Int]
    public let tokenizerKind: String
    public let loadSeconds: Double

    public var config: ModelConfig { transformer.config }

    init(url: URL, transformer: Transformer, tokenizer: Tokenizer, fingerprint: String?,
         storageTypes: [String: Int], tokenizerKind: String, loadSeconds: Double) {
        self.url = url
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.knownFingerprint = fingerprint
        self.storageTypes = storageTypes
        self.tokenizerKind = tokenizerKind
        self.loadSeconds = loadSeconds
    }

    /// Loads a GGUF file. `knownFingerprint` skips hashing when the caller already verified the file.
    public static func load(ggufAt url: URL, knownFingerprint: String? = nil) throws -> LoadedModel {
        let t0 = Date()
        let gguf = try GGUFFile(url: url)
        let transformer = try ModelLoader.load(gguf: gguf)
        let tokenizer = try TokenizerLoader.load(gguf: gguf)
        guard tokenizer.vocabularySize <= transformer.config.vocabularySize else {
            throw ModelError.invalidConfig(path: url.path, field: "tokenizer.ggml.tokens",
                                           reason: "has \(tokenizer.vocabularySize) tokens but the embedding has \(transformer.config.vocabularySize) rows")
        }
        let fp = knownFingerprint
        var types = [String: Int]()
        for t in gguf.tensors { types[t.type.description, default: 0] += 1 }
        let kind = gguf.metadata["tokenizer.ggml.model"]?.string ?? "?"
        return LoadedModel(url: url, transformer: transformer, tokenizer: tokenizer, fingerprint: fp,
                           storageTypes: types, tokenizerKind: kind, loadSeconds: Date().timeIntervalSince(t0))
    }

    /// Loads a Hugging Face model directory (config.json, safetensors, tokenizer.json).
    public static func load(huggingFaceAt url: URL, knownFingerprint: String? = nil) throws -> LoadedModel {
        let t0 = Date()
        let dir = try HuggingFaceModelDirectory(url: url)
        let transformer = try ModelLoader.load(huggingFace: dir)
        guard let tok = dir.tokenizerURL else {
            throw ModelError.missingTensor(path: url.path, tensor: "tokenizer.json (the tokenizer file)")
        }
        let cfg = url.appendingPathComponent("tokenizer_config.json")
        let tokenizer = try TokenizerLoader.load(tokenizerJSON: tok,
                                                 tokenizerConfig: FileManager.default.fileExists(atPath: cfg.path) ? cfg : nil)
        let fp = knownFingerprint
        var types = [String: Int]()
        for n in dir.weights.tensorNames { types[dir.weights.storageType(of: n) ?? "?", default: 0] += 1 }
        return LoadedModel(url: url, transformer: transformer, tokenizer: tokenizer, fingerprint: fp,
                           storageTypes: types, tokenizerKind: "tokenizer.json", loadSeconds: Date().timeIntervalSince(t0))
    }

    /// Loads a GGUF file or a Hugging Face model directory.
    public static func load(at url: URL, knownFingerprint: String? = nil) throws -> LoadedModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelIOError.cannotOpen(path: url.path, reason: "no such file or directory")
        }
        if isDir.boolValue { return try load(huggingFaceAt: url, knownFingerprint: knownFingerprint) }
        return try load(ggufAt: url, knownFingerprint: knownFingerprint)
    }
}
