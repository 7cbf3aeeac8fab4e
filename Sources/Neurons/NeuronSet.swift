import Foundation
import ModelIO
import Models

/// A set of neurons per layer and structure: the `langneuron.neurons/1` JSON file.
///
/// ```json
/// {"format": "langneuron.neurons/1", "model": {"fingerprint": "…"}, "language": "vi",
///  "layers": {"0": {"attn_q": [3, 17], "attn_k": [], "attn_v": [5], "attn_output": [], "ffn": [12, 840]}}}
/// ```
/// `model` is optional; when it has a fingerprint, the set may only be used with that model.
/// `model.layers` and `model.sizes` (neurons per structure per layer), when present, let tools
/// validate or match the set without the model. Other keys are kept on a round trip; `statistics`
/// is recomputed on every write.
public struct NeuronSet: Equatable {
    public static let format = "langneuron.neurons/1"

    /// SHA-256 of the base model the neurons belong to.
    public var fingerprint: String?
    public var language: String?
    /// The model's shape, when known.
    public var sizes: StructureSizes?
    /// Indices by layer, in stored-tensor layout.
    public var layers: [Int: LayerMask]
    /// Top-level keys other than format/model/language/layers/statistics (e.g. `selection`, `corpus`).
    public var extra: [String: JSONValue]
    /// Keys of `model` other than fingerprint/layers/sizes.
    public var modelExtra: [String: JSONValue]
    /// Where the set was read from (for messages); "(in memory)" otherwise.
    public var source: String

    public init(fingerprint: String? = nil, language: String? = nil, sizes: StructureSizes? = nil,
                layers: [Int: LayerMask] = [:], extra: [String: JSONValue] = [:], source: String = "(in memory)") {
        self.fingerprint = fingerprint
        self.language = language
        self.sizes = sizes
        self.layers = layers
        self.extra = extra
        modelExtra = [:]
        self.source = source
    }

    public static func == (a: NeuronSet, b: NeuronSet) -> Bool {
        a.fingerprint == b.fingerprint && a.language == b.language && a.sizes == b.sizes && a.extra == b.extra
            && a.modelExtra == b.modelExtra && a.toLayerMasks() == b.toLayerMasks()
    }

    // MARK: counts

    /// Number of neurons of one structure in one layer.
    public func count(layer: Int, structure: NeuronStructure) -> Int { layers[layer]?[structure].count ?? 0 }

    /// Number of neurons of one structure over all layers.
    public func count(structure: NeuronStructure) -> Int { layers.values.reduce(0) { $0 + $1[structure].count } }

    /// Number of neurons in the set.
    public var totalCount: Int { NeuronStructure.allCases.reduce(0) { $0 + count(structure: $1) } }

    /// Layers that hold at least one neuron, ascending.
    public var nonEmptyLayers: [Int] { layers.filter { !$0.value.isEmpty }.keys.sorted() }

    /// The masks `ForwardHooks` takes: sorted indices, empty layers left out.
    public func toLayerMasks() -> [Int: LayerMask] {
        var out = [Int: LayerMask]()
        for (l, m) in layers where !m.isEmpty {
            var s = LayerMask()
            for st in NeuronStructure.allCases { s[st] = m[st].sorted() }
            out[l] = s
        }
        return out
    }

    /// The neurons of this set that are not in `other` (same layer and structure), e.g. a language's
    /// set minus the English set.
    public func subtracting(_ other: NeuronSet) -> NeuronSet {
        var r = self
        for (l, m) in layers {
            guard let o = other.layers[l] else { continue }
            var n = m
            for st in NeuronStructure.allCases {
                let drop = Set(o[st])
                n[st] = m[st].filter { !drop.contains($0) }
            }
            r.layers[l] = n
        }
        return r
    }

    // MARK: validation

    /// Checks the set against the model it is about to be used with: fingerprint (when the set
    /// records one), layers, index ranges and duplicates.
    public func validate(against config: ModelConfig, fingerprint modelFingerprint: String) throws {
        if let fp = fingerprint, fp != modelFingerprint {
            throw NeuronsError.fingerprintMismatch(path: source, expected: modelFingerprint, found: fp)
        }
        try validate(sizes: StructureSizes(config: config))
    }

    /// Checks layers and index ranges against `sizes`, and that no index is listed twice.
    public func validate(sizes: StructureSizes) throws {
        for l in layers.keys.sorted() {
            guard l >= 0, l < sizes.layers else { throw NeuronsError.badLayer(path: source, layer: String(l), layers: sizes.layers) }
        }
        for l in layers.keys.sorted() {
            guard let m = layers[l] else { continue }
            for st in NeuronStructure.allCases {
                let limit = sizes.count(st)
                var seen = Set<Int>()
                for i in m[st] {
                    guard i >= 0, i < limit else {
                        throw NeuronsError.indexOutOfRange(path: source, layer: l, structure: st.rawValue, index: i, limit: limit)
                    }
                    guard seen.insert(i).inserted else {
                        throw NeuronsError.duplicateIndex(path: source, layer: l, structure: st.rawValue, index: i)
                    }
                }
            }
        }
    }

    // MARK: reading

    /// Reads and checks a neuron-set file (format, structure names, index types, duplicates, and
    /// ranges when the file records the model's sizes).
    public static func load(url: URL) throws -> NeuronSet {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NeuronsError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        return try parse(data, source: path)
    }

    /// Bounds on numbers a neuron set may hold, far above any model (the largest have ~100 layers and
    /// ~10^5 neurons per structure), so that counts, shares and plots cannot overflow or allocate per
    /// layer number.
    public static let maxLayers = 100_000
    public static let maxIndex = 1 << 32

    /// Largest neuron-set file accepted (listing every neuron of a 70B model takes a few tens of MB).
    public static let maxFileBytes = 256 << 20

    /// Parses the JSON text of a neuron set; `source` names it in errors.
    public static func parse(_ data: Data, source path: String) throws -> NeuronSet {
        if let v = TextLimits.checkJSON(data, maxBytes: maxFileBytes) {
            throw NeuronsError.unreadableFile(path: path, reason: "the neuron set \(v.reason)")
        }
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw NeuronsError.unreadableFile(path: path, reason: "not valid JSON")
        }
        guard var top = root.objectValue else { throw NeuronsError.badField(path: path, field: "(top level)", reason: "must be a JSON object") }
        guard let fmt = top.removeValue(forKey: "format") else {
            throw NeuronsError.badField(path: path, field: "format", reason: "is missing (expected \"\(format)\")")
        }
        guard fmt.stringValue == format else {
            throw NeuronsError.unsupportedFormat(path: path, found: fmt.stringValue ?? fmt.rendered())
        }
        var set = NeuronSet(source: path)
        if let model = top.removeValue(forKey: "model"), model != .null {
            guard var m = model.objectValue else { throw NeuronsError.badField(path: path, field: "model", reason: "must be an object") }
            if let fp = m.removeValue(forKey: "fingerprint"), fp != .null {
                guard let s = fp.stringValue, !s.isEmpty else {
                    throw NeuronsError.badField(path: path, field: "model.fingerprint", reason: "must be a non-empty string")
                }
                set.fingerprint = s
            }
            let layerCount = m.removeValue(forKey: "layers")
            let sizes = m.removeValue(forKey: "sizes")
            if layerCount != nil || sizes != nil {
                guard let n = layerCount?.intValue, n > 0, n <= maxLayers else {
                    throw NeuronsError.badField(path: path, field: "model.layers", reason: "must be an integer from 1 to \(maxLayers) when model.sizes is given")
                }
                guard let obj = sizes?.objectValue else {
                    throw NeuronsError.badField(path: path, field: "model.sizes", reason: "must be an object of neurons per structure when model.layers is given")
                }
                var per = [NeuronStructure: Int]()
                for (k, v) in obj {
                    guard let st = NeuronStructure(rawValue: k) else {
                        throw NeuronsError.unknownStructure(path: path, layer: "(model.sizes)", name: k)
                    }
                    guard let c = v.intValue, c >= 0, c <= maxIndex else {
                        throw NeuronsError.badField(path: path, field: "model.sizes.\(k)", reason: "must be an integer from 0 to \(maxIndex)")
                    }
                    per[st] = c
                }
                set.sizes = StructureSizes(layers: n, perLayer: per)
            }
            set.modelExtra = m
        }
        if let lang = top.removeValue(forKey: "language"), lang != .null {
            guard let s = lang.stringValue else { throw NeuronsError.badField(path: path, field: "language", reason: "must be a string") }
            set.language = s
        }
        guard let layersValue = top.removeValue(forKey: "layers") else {
            throw NeuronsError.badField(path: path, field: "layers", reason: "is missing")
        }
        guard let layerObj = layersValue.objectValue else {
            throw NeuronsError.badField(path: path, field: "layers", reason: "must be an object keyed by layer number")
        }
        for key in layerObj.keys.sorted(by: JSONValue.keyOrder) {
            guard let l = Int(key), l >= 0, l < maxLayers, String(l) == key else {
                throw NeuronsError.badField(path: path, field: "layers.\(key)", reason: "is not a layer number (use \"0\", \"1\", …)")
            }
            guard let structs = layerObj[key]?.objectValue else {
                throw NeuronsError.badField(path: path, field: "layers.\(key)", reason: "must be an object of structure → indices")
            }
            var mask = LayerMask()
            for name in structs.keys.sorted() {
                guard let st = NeuronStructure(rawValue: name) else {
                    throw NeuronsError.unknownStructure(path: path, layer: key, name: name)
                }
                guard let arr = structs[name]?.arrayValue else {
                    throw NeuronsError.badField(path: path, field: "layers.\(key).\(name)", reason: "must be an array of indices")
                }
                var idx = [Int]()
                idx.reserveCapacity(arr.count)
                for v in arr {
                    guard let i = v.intValue, i >= 0, i < maxIndex else {
                        throw NeuronsError.badField(path: path, field: "layers.\(key).\(name)", reason: "must hold integers from 0 to \(maxIndex - 1), found \(TextLimits.shown(v.rendered()))")
                    }
                    idx.append(i)
                }
                mask[st] = idx
            }
            set.layers[l] = mask
        }
        top.removeValue(forKey: "statistics")
        set.extra = top
        if let sizes = set.sizes { try set.validate(sizes: sizes) } else { try set.checkDuplicates() }
        return set
    }

    func checkDuplicates() throws {
        for l in layers.keys.sorted() {
            guard let m = layers[l] else { continue }
            for st in NeuronStructure.allCases {
                var seen = Set<Int>()
                for i in m[st] where !seen.insert(i).inserted {
                    throw NeuronsError.duplicateIndex(path: source, layer: l, structure: st.rawValue, index: i)
                }
            }
        }
    }

    // MARK: writing

    /// Counts per layer and structure, totals, and shares of all neurons when the sizes are known.
    public var statistics: JSONValue {
        var byLayer = [String: JSONValue]()
        for l in nonEmptyLayers {
            var o = [String: JSONValue]()
            for st in NeuronStructure.allCases { o[st.rawValue] = .int(count(layer: l, structure: st)) }
            o["total"] = .int(NeuronStructure.allCases.reduce(0) { $0 + count(layer: l, structure: $1) })
            byLayer[String(l)] = .object(o)
        }
        var byStructure = [String: JSONValue]()
        for st in NeuronStructure.allCases { byStructure[st.rawValue] = .int(count(structure: st)) }
        var s: [String: JSONValue] = ["total": .int(totalCount), "by_structure": .object(byStructure), "by_layer": .object(byLayer)]
        if let sizes, sizes.total > 0 {
            s["share"] = .double(Double(totalCount) / Double(sizes.total))
            var share = [String: JSONValue]()
            for st in NeuronStructure.allCases where sizes.count(st) > 0 {
                share[st.rawValue] = .double(Double(count(structure: st)) / Double(sizes.count(st) * sizes.layers))
            }
            s["share_by_structure"] = .object(share)
        }
        return .object(s)
    }

    /// The file's JSON value (indices sorted, keys sorted).
    public var json: JSONValue {
        var top = extra
        top["format"] = .string(Self.format)
        if fingerprint != nil || sizes != nil || !modelExtra.isEmpty {
            var m = modelExtra
            if let fingerprint { m["fingerprint"] = .string(fingerprint) }
            if let sizes {
                m["layers"] = .int(sizes.layers)
                var o = [String: JSONValue]()
                for (k, v) in sizes.perLayer { o[k.rawValue] = .int(v) }
                m["sizes"] = .object(o)
            }
            top["model"] = .object(m)
        }
        if let language { top["language"] = .string(language) }
        var ls = [String: JSONValue]()
        for (l, m) in toLayerMasks() {
            var o = [String: JSONValue]()
            for st in NeuronStructure.allCases { o[st.rawValue] = .array(m[st].map { .int($0) }) }
            ls[String(l)] = .object(o)
        }
        top["layers"] = .object(ls)
        top["statistics"] = statistics
        return .object(top)
    }

    /// Writes the file atomically (same set → same bytes).
    public func write(to url: URL) throws {
        try writeAtomically(Data((json.rendered() + "\n").utf8), to: url)
    }
}
