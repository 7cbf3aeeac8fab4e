import Foundation
import XCTest

/// A static file server on 127.0.0.1 (Python's http.server on a free port), for testing downloads
/// without the internet. Stopped by `stop()` or when released.
final class LoopbackServer {
    let port: Int
    private let process: Process
    private let log: URL

    /// The server's base URL, e.g. `http://127.0.0.1:40123/`.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    /// Serves `directory`. Skips the test if python3 is missing.
    init(directory: URL) throws {
        guard let python = Self.which("python3") else { throw XCTSkip("python3 is not installed") }
        log = FileManager.default.temporaryDirectory.appendingPathComponent("loopback-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = python
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        // http.server prints "Serving HTTP on 127.0.0.1 port N" once it listens.
        var found: Int?
        for _ in 0..<200 where found == nil {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression) {
                found = Int(text[range].dropFirst(5))
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let found else {
            process.terminate()
            throw NSError(domain: "LoopbackServer", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "http.server did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")"])
        }
        port = found
    }

    /// Number of GET requests the server has logged.
    var requestCount: Int {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "\n").filter { $0.contains("\"GET ") }.count
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: log)
    }

    static func which(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }
}

/// A fresh temporary folder, removed at the end of the test.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("storetests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Runs a program to completion and returns its exit status; skips the test if it is not installed.
@discardableResult
func runTool(_ name: String, _ arguments: [String], stdoutTo: URL? = nil) throws -> Int32 {
    guard let exe = LoopbackServer.which(name) else { throw XCTSkip("\(name) is not installed") }
    let process = Process()
    process.executableURL = exe
    process.arguments = arguments
    if let stdoutTo {
        _ = FileManager.default.createFile(atPath: stdoutTo.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutTo)
    }
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Files (not folders) anywhere under `directory`, hidden ones included, as sorted relative paths.
func allFiles(under directory: URL) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: directory.path) else { return [] }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: directory.appendingPathComponent(rel).path, isDirectory: &isDir)
        if !isDir.boolValue { out.append(rel) }
    }
    return out.sorted()
}
