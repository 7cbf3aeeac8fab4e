import COpenSSL
import Foundation

/// Streaming SHA-256 over OpenSSL's EVP interface (uses the CPU's SHA extensions when present).
public struct SHA256Hasher {
    private var ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(ctx, base, buffer.count)
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// Finishes the hash and returns it as lowercase hex. The hasher must not be reused.
    public mutating func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &digest, &len)
        EVP_MD_CTX_free(ctx)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of a byte buffer, as lowercase hex.
    public static func hex(_ data: Data) -> String {
        var h = SHA256Hasher()
        h.update(data)
        return h.finalizeHex()
    }

    /// SHA-256 of a file, streamed in 4 MiB chunks (bounded memory), as lowercase hex.
    public static func hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var h = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            h.update(chunk)
        }
        return h.finalizeHex()
    }
}
