import Foundation
import XCTest

/// A PEP 503 "simple" package index in a folder, holding small wheels made by the test,
/// to be served on loopback so `pip download` runs for real without the internet.
struct FakeWheelIndex {
    let root: URL

    init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("packages"), withIntermediateDirectories: true)
    }

    private static let wheelScript = """
    import os, sys, zipfile
    out, name, dist, version, staging = sys.argv[1:6]
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for base, _, files in sorted(os.walk(staging)):
            for f in sorted(files):
                path = os.path.join(base, f)
                z.write(path, os.path.relpath(path, staging))
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\\nGenerator: storetests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
        z.writestr(f"{info}/RECORD", "")
    """

    /// Adds a wheel of project `name` holding `members` (path inside the wheel -> bytes).
    func addWheel(name: String, version: String, members: [String: Data]) throws {
        let dist = name.replacingOccurrences(of: "-", with: "_")
        let staging = root.appendingPathComponent("staging-\(dist)")
        for (path, data) in members {
            let url = staging.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        let wheelName = "\(dist)-\(version)-py3-none-any.whl"
        let status = try runTool("python3", ["-c", Self.wheelScript,
                                             root.appendingPathComponent("packages/\(wheelName)").path,
                                             name, dist, version, staging.path])
        XCTAssertEqual(status, 0, "building \(wheelName)")
        try FileManager.default.removeItem(at: staging)
        let project = root.appendingPathComponent("simple/\(name)")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let html = "<!DOCTYPE html><html><body><a href=\"../../packages/\(wheelName)\">\(wheelName)</a></body></html>\n"
        try Data(html.utf8).write(to: project.appendingPathComponent("index.html"))
    }
}
