import Foundation

/// Peak resident memory of this process, resettable so that each arm's peak is its own
/// (Linux: `/proc/self/clear_refs` 5 resets `VmHWM`; elsewhere the process's lifetime peak).
public enum PeakMemory {
    /// Starts a new peak from the current resident size. Returns whether the platform allows it.
    @discardableResult
    public static func reset() -> Bool {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        do { try h.write(contentsOf: Data("5".utf8)); return true } catch { return false }
    }

    /// Peak resident memory since the last reset (or since the start), MB.
    public static func megabytes() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Double(line.split(separator: " ").dropFirst().first ?? "") {
            return kb / 1024
        }
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }
}
