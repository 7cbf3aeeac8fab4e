import Foundation

/// Overlap of two neuron sets per structure and layer band.
public struct NeuronOverlap: Equatable, Sendable {
    /// A third of the layers: first (understanding), middle (task solving), last (generation).
    public enum Band: String, CaseIterable, Sendable {
        case first, middle, last, all
    }

    public struct Cell: Equatable, Sendable {
        public var a = 0, b = 0, intersection = 0
        /// |A ∪ B|.
        public var union: Int { a + b - intersection }
        /// |A ∩ B| / |A ∪ B| (0 when both are empty).
        public var jaccard: Double { union == 0 ? 0 : Double(intersection) / Double(union) }
    }

    public let layers: Int
    public private(set) var cells: [Band: [NeuronStructure: Cell]]

    /// The band of layer `l` of `layers`: `l·3/layers` = 0, 1, 2.
    public static func band(layer l: Int, of layers: Int) -> Band {
        switch l * 3 / max(layers, 1) {
        case 0: return .first
        case 1: return .middle
        default: return .last
        }
    }

    /// Compares `a` and `b`. The layer count comes from either set's recorded sizes, else the
    /// highest layer listed. Sets recording different model fingerprints are refused.
    public init(_ a: NeuronSet, _ b: NeuronSet) throws {
        if let fa = a.fingerprint, let fb = b.fingerprint, fa != fb {
            throw NeuronsError.modelMismatch(first: a.source, second: b.source, reason: "model fingerprints \(fa) and \(fb) differ")
        }
        if let sa = a.sizes, let sb = b.sizes, sa != sb {
            throw NeuronsError.modelMismatch(first: a.source, second: b.source, reason: "model sizes differ (\(sa.layers) vs \(sb.layers) layers or per-structure counts)")
        }
        let n = a.sizes?.layers ?? b.sizes?.layers ?? ((a.layers.keys.max() ?? 0) + 1).clamped(min: (b.layers.keys.max() ?? 0) + 1)
        layers = n
        var cells = [Band: [NeuronStructure: Cell]]()
        for band in Band.allCases { cells[band] = Dictionary(uniqueKeysWithValues: NeuronStructure.allCases.map { ($0, Cell()) }) }
        for l in Set(a.layers.keys).union(b.layers.keys) {
            let band = Self.band(layer: l, of: n)
            for st in NeuronStructure.allCases {
                let x = Set(a.layers[l]?[st] ?? []), y = Set(b.layers[l]?[st] ?? [])
                let i = x.intersection(y).count
                for target in [band, .all] {
                    cells[target]?[st]?.a += x.count
                    cells[target]?[st]?.b += y.count
                    cells[target]?[st]?.intersection += i
                }
            }
        }
        self.cells = cells
    }

    /// The counts of one band and structure.
    public func cell(_ band: Band, _ st: NeuronStructure) -> Cell { cells[band]?[st] ?? Cell() }

    /// All structures of one band together.
    public func total(_ band: Band) -> Cell {
        NeuronStructure.allCases.reduce(into: Cell()) { acc, st in
            let c = cell(band, st)
            acc.a += c.a; acc.b += c.b; acc.intersection += c.intersection
        }
    }
}

private extension Int {
    func clamped(min other: Int) -> Int { Swift.max(self, other) }
}
