import Foundation

/// Runs external programs (xz, python3 -m pip) with captured output.
enum Subprocess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The first executable called `name` on `PATH` (or `name` itself if it is a path).
    static func findExecutable(_ name: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let fm = FileManager.default
        if name.contains("/") {
            return fm.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if fm.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments` and waits. Standard output goes to `stdoutFile` if given
    /// (for binary output), else is captured as text; standard error is always captured.
    /// Output is captured through temporary files, so a chatty child cannot dead-lock on a full pipe.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                    stdoutFile: URL? = nil) throws -> Result {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("langneuron-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let outURL = stdoutFile ?? scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        guard fm.createFile(atPath: outURL.path, contents: nil), fm.createFile(atPath: errURL.path, contents: nil) else {
            throw StoreError.ioFailed(path: outURL.path, reason: "cannot create a file for the output of \(executable.path)")
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        do {
            try process.run()
        } catch {
            throw StoreError.toolFailed(command: describe(executable, arguments), status: -1,
                                        stderr: error.localizedDescription)
        }
        process.waitUntilExit()
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        let stdout = stdoutFile == nil ? String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self) : ""
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    static func describe(_ executable: URL, _ arguments: [String]) -> String {
        ([executable.lastPathComponent] + arguments).joined(separator: " ")
    }

    /// The last `maxLines` non-empty lines of a tool's output, for error messages.
    static func tail(_ text: String, maxLines: Int = 6) -> String {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.suffix(maxLines).joined(separator: " | ")
    }
}
