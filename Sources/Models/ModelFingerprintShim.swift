import Foundation
import ModelIO

/// Temporary until ModelIO's cached fingerprint lands: file SHA-256, or for a directory the
/// SHA-256 of the sorted lines `name<TAB>sha256\n` of its `*.safetensors` files.
public enum ModelFingerprint {
    public static func of(url: URL) throws -> String {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        guard isDir.boolValue else { return try SHA256Hasher.hex(fileAt: url) }
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".safetensors") }.sorted()
        var lines = ""
        for n in names { lines += "\(n)\t\(try SHA256Hasher.hex(fileAt: url.appendingPathComponent(n)))\n" }
        return SHA256Hasher.hex(Data(lines.utf8))
    }
}
