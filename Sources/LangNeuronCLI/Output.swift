import Distributed
import Foundation

/// Under mpirun only rank 0 prints progress and notes (the other ranks do the same work and would
/// repeat every line); errors of any rank are printed by `LangNeuron.main`, naming the rank.
let printsProgress = Communicator.world.isRoot

/// Writes a line to standard error (progress and notes), so standard output stays machine-readable.
func printError(_ line: String) {
    guard printsProgress else { return }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a JSON value with sorted keys, so the output is deterministic.
func printJSON(_ value: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

/// Whether standard error is a terminal (progress lines redraw in place only there).
let stderrIsTTY = isatty(2) != 0

/// Redraws a one-line progress display on a terminal; elsewhere prints every `everyOtherwise`-th
/// call as a plain line, or (when `everyOtherwise` is 0) one line every 30 seconds, so that a log
/// of long work still shows where it is without a line per document.
final class ProgressLine {
    private var calls = 0
    private let every: Int
    private var lastPrinted = Date()
    init(everyOtherwise: Int = 0) { every = everyOtherwise }

    func update(_ line: String) {
        guard printsProgress else { return }
        calls += 1
        if stderrIsTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else if every > 0 ? calls % every == 0 : Date().timeIntervalSince(lastPrinted) >= 30 {
            printError(line)
            lastPrinted = Date()
        }
    }

    /// Ends the line on a terminal.
    func finish() { if printsProgress && stderrIsTTY && calls > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}

/// Writes an SVG file atomically and, when `rsvg-convert` (Debian librsvg2-bin) is on the PATH,
/// a PNG next to it; prints where they went.
func writePlot(_ svg: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try Data(svg.utf8).write(to: url, options: .atomic)
    var note = "wrote \(url.path)"
    let png = url.deletingPathExtension().appendingPathExtension("png")
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let tool = URL(fileURLWithPath: String(dir)).appendingPathComponent("rsvg-convert")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else { continue }
        let p = Process()
        p.executableURL = tool
        p.arguments = [url.path, "-o", png.path]
        try? p.run()
        p.waitUntilExit()
        if p.terminationStatus == 0 { note += " and \(png.path)" }
        break
    }
    printError(note)
}

/// A change with its sign, `decimals` places; a change that rounds to zero reads "+0.0", never "-0.0".
func signed(_ v: Double, decimals: Int) -> String {
    let text = String(format: "%+.\(decimals)f", v)
    return text.hasPrefix("-") && Double(text) == 0 ? "+" + text.dropFirst() : text
}
