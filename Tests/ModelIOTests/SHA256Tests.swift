import Foundation
import ModelIO
import XCTest

final class SHA256Tests: XCTestCase {
    func testKnownVectors() throws {
        // FIPS 180-2 test vectors.
        XCTAssertEqual(SHA256Hasher.hex(Data()),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256Hasher.hex(Data("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testFileMatchesInMemory() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        let bytes = Data((0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try SHA256Hasher.hex(fileAt: url), SHA256Hasher.hex(bytes))
    }
}
