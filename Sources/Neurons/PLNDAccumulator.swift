import Foundation
import Models

/// How a neuron counts as important in one document, and how documents are combined (method §4).
public struct SelectionOptions: Equatable, Sendable {
    /// Per-document top-k of each attention matrix (q, k, v, o; capped at the matrix size).
    public var topKAttention: Int?
    /// Per-document top-k of each feed-forward matrix.
    public var topKFFN: Int?
    /// Importance threshold ε: important when `Imp ≥ ε`. With a top-k too, both must hold.
    public var epsilon: Double?
    /// Fraction of documents a neuron must be important in (1.0 = every document).
    public var consistency: Double
    /// At most this many neurons per layer and structure, the ones of highest mean importance.
    public var cap: Int?

    public init(topKAttention: Int? = nil, topKFFN: Int? = nil, epsilon: Double? = nil, consistency: Double = 1.0, cap: Int? = nil) {
        self.topKAttention = topKAttention
        self.topKFFN = topKFFN
        self.epsilon = epsilon
        self.consistency = consistency
        self.cap = cap
    }

    /// The top-k for a structure, if any.
    public func topK(_ s: NeuronStructure) -> Int? { s.isAttention ? topKAttention : topKFFN }

    /// Rejects options that select nothing meaningful.
    public func validate() throws {
        if let k = topKAttention, k <= 0 { throw NeuronsError.invalidOption(name: "--top-k-attn", reason: "must be positive, got \(k)") }
        if let k = topKFFN, k <= 0 { throw NeuronsError.invalidOption(name: "--top-k-ffn", reason: "must be positive, got \(k)") }
        if let e = epsilon, !(e >= 0) || !e.isFinite { throw NeuronsError.invalidOption(name: "--epsilon", reason: "must be a finite number ≥ 0") }
        guard consistency > 0, consistency <= 1 else {
            throw NeuronsError.invalidOption(name: "--consistency", reason: "must be in (0, 1], got \(consistency)")
        }
        if let c = cap, c < 0 { throw NeuronsError.invalidOption(name: "--cap", reason: "must be ≥ 0, got \(c)") }
        guard topKAttention != nil || topKFFN != nil || epsilon != nil else {
            throw NeuronsError.invalidOption(name: "--top-k-attn/--top-k-ffn/--epsilon", reason: "give at least one importance criterion")
        }
    }

    /// The options as recorded in a neuron-set file.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["consistency": .double(consistency)]
        if let k = topKAttention { o["top_k_attention"] = .int(k) }
        if let k = topKFFN { o["top_k_ffn"] = .int(k) }
        if let e = epsilon { o["epsilon"] = .double(e) }
        if let c = cap { o["cap"] = .int(c) }
        return .object(o)
    }
}

/// Per-neuron statistics over a corpus, in memory independent of the number of documents:
/// per-document top-k membership counts, ε counts and the importance sum, per layer and structure.
public final class PLNDAccumulator {
    public let sizes: StructureSizes
    /// The per-document criteria counted (selection may use any subset of them).
    public let topKAttention: Int?
    public let topKFFN: Int?
    public let epsilon: Double?
    public private(set) var documents = 0
    public private(set) var tokens = 0
    /// `[layer][structure ordinal]` vectors.
    private var topKCounts: [[[UInt32]]]
    private var epsilonCounts: [[[UInt32]]]
    private var sums: [[[Double]]]

    public init(sizes: StructureSizes, topKAttention: Int?, topKFFN: Int?, epsilon: Double?) {
        self.sizes = sizes
        self.topKAttention = topKAttention
        self.topKFFN = topKFFN
        self.epsilon = epsilon
        let shape = (0..<sizes.layers).map { _ in NeuronStructure.allCases.map { [UInt32](repeating: 0, count: sizes.count($0)) } }
        topKCounts = shape
        epsilonCounts = shape
        sums = (0..<sizes.layers).map { _ in NeuronStructure.allCases.map { [Double](repeating: 0, count: sizes.count($0)) } }
    }

    /// Counting the criteria of `options`.
    public convenience init(sizes: StructureSizes, options: SelectionOptions) {
        self.init(sizes: sizes, topKAttention: options.topKAttention, topKFFN: options.topKFFN, epsilon: options.epsilon)
    }

    /// Adds one document's importances (every layer of the model, as `PLND.importance` returns).
    public func add(_ layers: [LayerImportance], tokens n: Int) throws {
        guard layers.count == sizes.layers else {
            throw NeuronsError.invalidOption(name: "layers", reason: "a document must cover all \(sizes.layers) layers, got \(layers.count)")
        }
        for li in layers {
            let l = li.layer
            for st in NeuronStructure.allCases {
                let v = li[st], o = st.ordinal
                guard v.count == sizes.count(st) else {
                    throw NeuronsError.invalidOption(name: st.rawValue, reason: "layer \(l) has \(v.count) values, expected \(sizes.count(st))")
                }
                for i in 0..<v.count { sums[l][o][i] += v[i] }
                if let e = epsilon { for i in 0..<v.count where v[i] >= e { epsilonCounts[l][o][i] += 1 } }
                if let k = (st.isAttention ? topKAttention : topKFFN) {
                    for i in Self.topIndices(v, k) { topKCounts[l][o][i] += 1 }
                }
            }
        }
        documents += 1
        tokens += n
    }

    /// Indices of the `k` largest values (ties: lower index first), so selection is deterministic.
    static func topIndices(_ v: [Double], _ k: Int) -> ArraySlice<Int> {
        let order = v.indices.sorted { v[$0] != v[$1] ? v[$0] > v[$1] : $0 < $1 }
        return order.prefix(min(k, v.count))
    }

    /// Mean importance of every neuron of one layer and structure over the documents so far.
    public func meanImportance(layer: Int, structure: NeuronStructure) -> [Double] {
        let n = Double(max(documents, 1))
        return sums[layer][structure.ordinal].map { $0 / n }
    }

    /// In how many documents each neuron was in its matrix's top-k.
    public func topKCount(layer: Int, structure: NeuronStructure) -> [Int] { topKCounts[layer][structure.ordinal].map(Int.init) }

    /// In how many documents each neuron reached ε.
    public func epsilonCount(layer: Int, structure: NeuronStructure) -> [Int] { epsilonCounts[layer][structure.ordinal].map(Int.init) }

    /// Documents a neuron must be important in for consistency `p`: ⌈p·n⌉ (at least 1).
    public static func required(consistency p: Double, documents n: Int) -> Int {
        max(1, Int((p * Double(n) - 1e-9).rounded(.up)))
    }

    /// The language-specific neurons: important (by every criterion the options give, each of which
    /// must have been counted) in at least ⌈p·n⌉ documents, minus `exclude`, then capped per matrix
    /// by mean importance.
    public func select(_ options: SelectionOptions, exclude: NeuronSet? = nil) throws -> NeuronSet {
        try options.validate()
        guard documents > 0 else { throw NeuronsError.emptyCorpus(path: "(accumulator)", reason: "no documents were added") }
        if options.topKAttention != nil && options.topKAttention != topKAttention
            || options.topKFFN != nil && options.topKFFN != topKFFN
            || options.epsilon != nil && options.epsilon != epsilon {
            throw NeuronsError.invalidOption(name: "selection", reason: "asks for a criterion (top-k or ε) that was not counted during detection")
        }
        if let exclude { try exclude.validate(sizes: sizes) }
        let need = Self.required(consistency: options.consistency, documents: documents)
        var layers = [Int: LayerMask]()
        for l in 0..<sizes.layers {
            var mask = LayerMask()
            for st in NeuronStructure.allCases {
                let o = st.ordinal
                let usesTopK = options.topK(st) != nil
                let usesEps = options.epsilon != nil
                guard usesTopK || usesEps else { continue }
                let drop = Set(exclude?.layers[l]?[st] ?? [])
                var picked = [Int]()
                for i in 0..<sizes.count(st) {
                    if usesTopK && Int(topKCounts[l][o][i]) < need { continue }
                    if usesEps && Int(epsilonCounts[l][o][i]) < need { continue }
                    if drop.contains(i) { continue }
                    picked.append(i)
                }
                if let cap = options.cap, picked.count > cap {
                    let s = sums[l][o]
                    picked = Array(picked.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }.prefix(cap)).sorted()
                }
                mask[st] = picked
            }
            if !mask.isEmpty { layers[l] = mask }
        }
        var set = NeuronSet(sizes: sizes, layers: layers)
        var sel = options.json.objectValue ?? [:]
        sel["documents"] = .int(documents)
        sel["required_documents"] = .int(need)
        sel["tokens"] = .int(tokens)
        if let exclude { sel["excluded"] = .string(URL(fileURLWithPath: exclude.source).lastPathComponent) }
        set.extra["selection"] = .object(sel)
        return set
    }
}
