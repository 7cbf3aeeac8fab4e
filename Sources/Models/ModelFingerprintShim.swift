import Foundation
import ModelIO

/// Temporary until ModelIO's fingerprint lands.
public enum ModelFingerprint {
    public static func of(url: URL) throws -> String { try SHA256Hasher.hex(fileAt: url) }
}

extension LoadedModel {
    public static func load(huggingFaceAt url: URL, knownFingerprint: String? = nil) throws -> LoadedModel {
        throw ModelError.unsupportedArchitecture(path: url.path, architecture: "huggingFace (pending)")
    }
}
