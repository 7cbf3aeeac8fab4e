import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a piece of work will hold in memory, planned before it starts and printed, so a user
/// sees why a run fits or not; `peakRSS` reports what it really took.
public struct MemoryPlan {
    /// Stored weight matrices (memory-mapped: pages of the model file, shared with the page cache).
    public var weights: Int
    /// Float32 norms, biases and sparse deltas.
    public var vectors: Int
    /// Activations and scratch of the forward (and backward) pass.
    public var activations: Int
    /// Keys and values.
    public var kvCache: Int
    /// Trainable slices, their gradients and AdamW moments.
    public var optimizer: Int
    /// A note on choices made (e.g. recomputation).
    public var note: String

    public init(weights: Int, vectors: Int = 0, activations: Int, kvCache: Int = 0, optimizer: Int = 0, note: String = "") {
        self.weights = weights; self.vectors = vectors; self.activations = activations
        self.kvCache = kvCache; self.optimizer = optimizer; self.note = note
    }

    public var total: Int { weights + vectors + activations + kvCache + optimizer }

    /// One line: `memory plan: weights 4.21 GB (mapped) + activations … = total …`.
    public var summary: String {
        func gb(_ b: Int) -> String { String(format: "%.2f GB", Double(b) / 1e9) }
        var parts = ["weights \(gb(weights)) (mapped, stored types)"]
        if vectors > 0 { parts.append("vectors \(gb(vectors))") }
        parts.append("activations \(gb(activations))")
        if kvCache > 0 { parts.append("KV cache \(gb(kvCache))") }
        if optimizer > 0 { parts.append("optimizer \(gb(optimizer))") }
        return "memory plan: " + parts.joined(separator: " + ") + " = \(gb(total))" + (note.isEmpty ? "" : "; \(note)")
    }

    /// Weights part of a model's plan.
    public static func weights(of m: Transformer) -> (stored: Int, vectors: Int) {
        let w = m.weights
        var vectors = w.outputNorm.count * 4
        for l in w.layers {
            vectors += BlockTensor.allCases.reduce(0) { $0 + ($1 == .attnQ ? 0 : (l.vector($1)?.count ?? 0)) } * 4
            for p in l.projections { if let d = p.delta { vectors += 8 * d.values.count } }
        }
        return (w.storedMatrixBytes, vectors)
    }

    /// Plan of inference over `rows` new rows at a time with up to `context` cached positions
    /// per sequence, the head `headRows` rows at a time.
    public static func inference(_ m: Transformer, rows: Int, context: Int, sequences: Int = 1, headRows: Int = 256) -> MemoryPlan {
        let c = m.config
        let (stored, vectors) = weights(of: m)
        let act = 4 * (rows * (4 * c.hidden + 2 * c.qDim + 2 * c.kvDim + 2 * c.ffn) + c.heads * rows * context
                       + min(headRows, rows) * c.vocabularySize)
        let kv = 4 * 2 * c.layers * c.kvDim * context * sequences
        return MemoryPlan(weights: stored, vectors: vectors, activations: act, kvCache: kv)
    }

    /// Peak resident set of this process so far, in bytes.
    public static var peakRSS: Int {
        // VmHWM follows resetPeak(); getrusage's maximum cannot be reset.
        if let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
            return kb * 1024
        }
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int(u.ru_maxrss) * 1024
    }

    /// Starts a new peak from the current resident set (Linux: /proc/self/clear_refs), so that a
    /// benchmark reports one model's peak and not an earlier buffer's. Returns false where unsupported.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let f = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? f.close() }
        return (try? f.write(contentsOf: Data("5".utf8))) != nil
    }

    /// Current resident set (from /proc/self/statm), in bytes; 0 where unavailable.
    public static var currentRSS: Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let f = s.split(separator: " ")
        guard f.count > 1, let pages = Int(f[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Memory the machine can give this process now: MemAvailable plus what it already holds.
    public static var available: Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return Int.max / 2 }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let f = line.split(separator: " ")
            if f.count >= 2, let kb = Int(f[1]) { return kb * 1024 + currentRSS }
        }
        return Int.max / 2
    }

    /// Parses a budget: `auto` (what the machine has), or a size like `8G`, `7.5GB`, `512M`, `1e10`.
    public static func parseBudget(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t == "AUTO" || t.isEmpty { return available }
        var number = t, factor = 1.0
        for (suffix, f) in [("GB", 1e9), ("G", 1e9), ("MB", 1e6), ("M", 1e6), ("KB", 1e3), ("K", 1e3), ("B", 1)] where t.hasSuffix(suffix) {
            number = String(t.dropLast(suffix.count)); factor = f; break
        }
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else { return nil }
        return Int(v * factor)
    }
}
