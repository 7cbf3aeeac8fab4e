/// A deterministic train/held-out split of a corpus.
public struct CorpusSplit: Sendable {
    /// Training documents, in sampled (pseudo-random, seed-determined) order.
    public var train: [Document]
    /// Held-out documents, disjoint from `train` (no shared text either).
    public var heldout: [Document]
    /// Problems worth telling the user: too few documents, off-script documents, bad input.
    public var warnings: [String]
    /// Eligible documents seen (long enough, in the expected script), before duplicate removal.
    public var eligible: Int
    /// Exact duplicates (same text) dropped among the candidates.
    public var duplicatesRemoved: Int
    /// Documents excluded because most of their letters are in another script.
    public var offScript: Int
    /// One reader report per source file (empty for in-memory documents).
    public var reports: [ReadReport]
    /// The report of the first (usually only) source file.
    public var report: ReadReport? { reports.first }
}

/// Picks `documents` training and `heldout` evaluation documents from a source, deterministically
/// for a given seed and independent of the source order: each distinct text gets a pseudo-random
/// key from (seed, hash of the text) and the smallest keys win — the first `documents` go to
/// training, the next `heldout` to the held-out set. Memory is bounded by the sample size.
public struct DocumentSampler: Sendable {
    /// Training documents wanted.
    public var documents: Int
    /// Held-out documents wanted (disjoint from training).
    public var heldout: Int
    /// Selects the pseudo-random sample; same seed, same source → same split.
    public var seed: UInt64
    /// Documents shorter than this many Unicode scalars are not eligible.
    public var minChars: Int
    /// When set, documents whose expected-script fraction is below `minScriptFraction` are excluded.
    public var profile: ScriptProfile?
    /// Minimum fraction of letters in the profile's scripts (ignored without a profile).
    public var minScriptFraction: Double

    public init(documents: Int, heldout: Int = 0, seed: UInt64 = 0, minChars: Int = 0,
                profile: ScriptProfile? = nil, minScriptFraction: Double = 0.5) throws {
        guard documents >= 0 else { throw CorpusError.invalidArgument(name: "documents", value: String(documents), hint: "must be 0 or more") }
        guard heldout >= 0 else { throw CorpusError.invalidArgument(name: "heldout", value: String(heldout), hint: "must be 0 or more") }
        guard minChars >= 0 else { throw CorpusError.invalidArgument(name: "minChars", value: String(minChars), hint: "must be 0 or more") }
        guard (0...1).contains(minScriptFraction) else {
            throw CorpusError.invalidArgument(name: "minScriptFraction", value: String(minScriptFraction), hint: "must be between 0 and 1")
        }
        self.documents = documents
        self.heldout = heldout
        self.seed = seed
        self.minChars = minChars
        self.profile = profile
        self.minScriptFraction = minScriptFraction
    }

    /// The recipe's `data` block: `documents`/`heldout`/`seed`, plus an optional length floor and
    /// language (ISO 639-1) whose script documents must mostly be in.
    public init(documents: Int, heldout: Int, seed: UInt64, minChars: Int, language: String?) throws {
        try self.init(documents: documents, heldout: heldout, seed: seed, minChars: minChars,
                      profile: try language.map { try ScriptProfile(language: $0) })
    }

    /// Samples from a corpus file (any format `DocumentReader` reads).
    public func split(path: String, format: SourceFormat? = nil) throws -> CorpusSplit {
        try split(paths: [path], format: format)
    }

    /// Samples from several files (e.g. the shards of one dump) as if they were one source;
    /// the result does not depend on their order. `reports` has one entry per file.
    public func split(paths: [String], format: SourceFormat? = nil) throws -> CorpusSplit {
        guard !paths.isEmpty else {
            throw CorpusError.invalidArgument(name: "paths", value: "[]", hint: "give at least one corpus file")
        }
        var state = State(sampler: self)
        var reports: [ReadReport] = []
        var warnings: [String] = []
        for path in paths {
            let reader = try DocumentReader(path: path, options: .init(format: format, minChars: minChars))
            while let doc = try reader.next() { state.offer(doc) }
            let report = reader.report
            reports.append(report)
            if report.truncated {
                warnings.append("\(path) is cut short (\(report.truncationDetail ?? "truncated")); all complete documents were used")
            }
            if report.warningCount > 0 {
                let reasons = report.skipped.filter { $0.key.isWarning }.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
                warnings.append("\(path): skipped \(reasons)")
            }
        }
        var result = state.finish()
        result.warnings += warnings
        result.reports = reports
        return result
    }

    /// Samples from documents already in memory.
    public func split<S: Sequence>(_ docs: S) -> CorpusSplit where S.Element == Document {
        var state = State(sampler: self)
        for doc in docs { state.offer(doc) }
        return state.finish()
    }

    struct Candidate {
        var key: UInt64
        var hash: ContentHash
        var doc: Document
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.key != b.key ? a.key < b.key : (a.hash.a != b.hash.a ? a.hash.a < b.hash.a : a.hash.b < b.hash.b)
        }
    }

    /// Keeps the `capacity` smallest-key candidates in a max-heap.
    struct State {
        let sampler: DocumentSampler
        let capacity: Int
        var heap: [Candidate] = []
        var members = Set<ContentHash>()
        var eligible = 0
        var duplicates = 0
        var offScript = 0
        var offScriptExamples: [String] = []

        init(sampler: DocumentSampler) {
            self.sampler = sampler
            capacity = sampler.documents + sampler.heldout
            heap.reserveCapacity(capacity)
        }

        mutating func offer(_ doc: Document) {
            if sampler.minChars > 0, doc.charCount < sampler.minChars { return }
            if let profile = sampler.profile, sampler.minScriptFraction > 0 {
                let f = profile.fraction(of: doc.text)
                if f < sampler.minScriptFraction {
                    offScript += 1
                    if offScriptExamples.count < 5 {
                        offScriptExamples.append("'\(doc.title)' (\(Int((f * 100).rounded()))% \(profile.language) script)")
                    }
                    return
                }
            }
            eligible += 1
            guard capacity > 0 else { return }
            let hash = ContentHash(doc.text)
            let candidate = Candidate(key: splitmix(sampler.seed ^ hash.a) ^ hash.b &* 0x9E37_79B9_7F4A_7C15, hash: hash, doc: doc)
            if members.contains(hash) {
                duplicates += 1
                return
            }
            if heap.count < capacity {
                heap.append(candidate)
                members.insert(hash)
                siftUp(heap.count - 1)
            } else if candidate < heap[0] {
                members.remove(heap[0].hash)
                heap[0] = candidate
                members.insert(hash)
                siftDown(0)
            }
            // A duplicate of an evicted text has the evicted (too large) key, so it is rejected here too.
        }

        mutating func siftUp(_ index: Int) {
            var i = index
            while i > 0 {
                let parent = (i - 1) / 2
                guard heap[parent] < heap[i] else { return }
                heap.swapAt(parent, i)
                i = parent
            }
        }

        mutating func siftDown(_ index: Int) {
            var i = index
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var largest = i
                if l < heap.count, heap[largest] < heap[l] { largest = l }
                if r < heap.count, heap[largest] < heap[r] { largest = r }
                if largest == i { return }
                heap.swapAt(i, largest)
                i = largest
            }
        }

        func finish() -> CorpusSplit {
            let chosen = heap.sorted(by: <).map(\.doc)
            var warnings: [String] = []
            var trainCount = sampler.documents
            if chosen.count < capacity {
                // Share the shortfall proportionally so neither split is empty when the other is not.
                trainCount = capacity == 0 ? 0 : Int((Double(chosen.count) * Double(sampler.documents) / Double(capacity)).rounded())
                if sampler.heldout > 0, chosen.count > 1, trainCount == chosen.count { trainCount -= 1 }
                warnings.append("only \(chosen.count) distinct eligible documents for \(sampler.documents) train + \(sampler.heldout) held-out; "
                                + "using \(trainCount) + \(chosen.count - trainCount)")
            }
            if offScript > 0 {
                warnings.append("\(offScript) documents excluded as mostly not in the \(sampler.profile?.language ?? "") script, e.g. "
                                + offScriptExamples.joined(separator: ", "))
            }
            if duplicates > 0 { warnings.append("\(duplicates) exact duplicate documents removed") }
            return CorpusSplit(train: Array(chosen.prefix(trainCount)), heldout: Array(chosen.dropFirst(trainCount)),
                               warnings: warnings, eligible: eligible, duplicatesRemoved: duplicates, offScript: offScript, reports: [])
        }
    }
}

/// A 128-bit content hash of a text (two independent 64-bit word-at-a-time hashes).
struct ContentHash: Hashable, Sendable {
    var a: UInt64
    var b: UInt64

    init(_ text: String) {
        var copy = text
        (a, b) = copy.withUTF8 { Self.hash($0) }
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var h1: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        var h2: UInt64 = 0x1319_8A2E_0370_7344 &+ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return (splitmix(h1), splitmix(h2)) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h1 = (h1 ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h1 ^= h1 >> 32
            h2 = (h2 &+ w) &* 0xC4CE_B9FE_1A85_EC53
            h2 ^= h2 >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h1 = (h1 ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        h2 = (h2 &+ tail) &* 0xC4CE_B9FE_1A85_EC53
        return (splitmix(h1), splitmix(h2 ^ 0x5851_F42D_4C95_7F2D))
    }
}

/// SplitMix64 finaliser: a well-mixed 64-bit permutation.
@inline(__always)
func splitmix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
