/// Summary of a corpus: document counts, length distribution and script mix.
public struct CorpusStats: Sendable {
    /// Documents counted.
    public private(set) var documents = 0
    /// Total Unicode scalars.
    public private(set) var characters = 0
    /// Total UTF-8 bytes.
    public private(set) var bytes = 0
    /// Letters per script over the whole corpus.
    public private(set) var scripts = ScriptCounts()
    /// When a profile is given: documents whose expected-script fraction is below the threshold.
    public private(set) var offScriptDocuments = 0
    /// A few off-script titles, for the report.
    public private(set) var offScriptExamples: [String] = []
    /// Expected scripts, when the language is known.
    public let profile: ScriptProfile?
    /// A document is off-script when less than this fraction of its letters is in the profile's scripts.
    public let threshold: Double
    private var lengths: [Int] = []

    public init(profile: ScriptProfile? = nil, threshold: Double = 0.5) {
        self.profile = profile
        self.threshold = threshold
    }

    /// Adds one document.
    public mutating func add(_ doc: Document) {
        let chars = doc.charCount
        documents += 1
        characters += chars
        bytes += doc.byteCount
        lengths.append(chars)
        let counts = ScriptCounts(doc.text)
        scripts.add(counts)
        if let profile, counts.fraction(in: profile.scripts) < threshold {
            offScriptDocuments += 1
            if offScriptExamples.count < 10 { offScriptExamples.append(doc.title) }
        }
    }

    /// Length (characters) at quantile `q` ∈ [0, 1] (nearest rank), 0 for an empty corpus.
    public func lengthQuantile(_ q: Double) -> Int {
        guard !lengths.isEmpty else { return 0 }
        let sorted = lengths.sorted()
        let rank = Int((q * Double(sorted.count - 1)).rounded())
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Mean length in characters.
    public var meanLength: Double { documents == 0 ? 0 : Double(characters) / Double(documents) }

    /// Fraction of letters in the profile's scripts over the whole corpus (nil without a profile).
    public var expectedScriptFraction: Double? { profile.map { scripts.fraction(in: $0.scripts) } }
}
