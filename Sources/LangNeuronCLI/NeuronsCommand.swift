import ArgumentParser
import Foundation
import Models
import Neurons

/// `langneuron neurons`: inspect, compare and randomise neuron-set files.
struct NeuronsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neurons", abstract: "Show, compare and make random baselines of neuron-set files (langneuron.neurons/1).",
        subcommands: [Show.self, Overlap.self, Random.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per layer and structure of a neuron set.")
        @Argument(help: "A neuron-set JSON file.") var file: String
        @Flag(help: "Print JSON (the file's statistics).") var json = false
        @Option(help: "Also draw the counts per layer and structure (the paper's Figure 3) as SVG, plus PNG when rsvg-convert is installed.")
        var svg: String?

        func run() throws {
            let set = try NeuronSet.load(url: URL(fileURLWithPath: file))
            if let svg { try writePlot(set.countsSVG(), to: svg) }
            if json { print(set.statistics.rendered()); return }
            var head = "\(file): \(set.totalCount) neurons"
            if let lang = set.language { head += ", language \(lang)" }
            if let fp = set.fingerprint { head += ", model \(fp.prefix(12))…" }
            print(head)
            print(countsTable(set))
        }
    }

    struct Overlap: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pairwise intersection and Jaccard index per structure and layer band (first/middle/last thirds).")
        @Argument(help: "Two or more neuron-set JSON files.") var files: [String]
        @Flag(help: "Print JSON.") var json = false

        func validate() throws { if files.count < 2 { throw ValidationError("give at least two neuron-set files") } }

        func run() throws {
            let sets = try files.map { try NeuronSet.load(url: URL(fileURLWithPath: $0)) }
            var rows = [[String: Any]]()
            for i in 0..<sets.count {
                for j in (i + 1)..<sets.count {
                    let o = try NeuronOverlap(sets[i], sets[j])
                    if !json { print("\(files[i])  vs  \(files[j])  (\(o.layers) layers)") }
                    var lines = [String]()
                    lines.append(pad("band", 8) + pad("structure", 13) + lpad("|A|", 8) + lpad("|B|", 8) + lpad("A∩B", 8) + lpad("Jaccard", 9))
                    for band in NeuronOverlap.Band.allCases {
                        var cells: [(String, NeuronOverlap.Cell)] = NeuronStructure.allCases.map { ($0.rawValue, o.cell(band, $0)) }
                        cells.append(("all", o.total(band)))
                        for (name, c) in cells {
                            rows.append(["a": files[i], "b": files[j], "band": band.rawValue, "structure": name,
                                         "size_a": c.a, "size_b": c.b, "intersection": c.intersection, "jaccard": c.jaccard])
                            if c.a + c.b > 0 {
                                lines.append(pad(band.rawValue, 8) + pad(name, 13) + lpad("\(c.a)", 8) + lpad("\(c.b)", 8)
                                             + lpad("\(c.intersection)", 8) + lpad(String(format: "%.3f", c.jaccard), 9))
                            }
                        }
                    }
                    if !json { print(lines.joined(separator: "\n")); print("") }
                }
            }
            if json { try printJSON(["overlaps": rows]) }
        }
    }

    struct Random: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A random neuron set with the same count per layer and structure as another, from a seed.")
        @Option(help: "The neuron set to match.") var match: String
        @Option(help: "Random seed (same seed → same set).") var seed: UInt64 = 1
        @Option(name: [.customShort("o"), .long], help: "Output neuron-set file.") var output: String
        @Option(help: "Model to take sizes from when the set does not record them (also checks the fingerprint).") var model: String?
        @Flag(help: "Avoid the neurons of the matched set.") var disjoint = false

        func run() throws {
            let set = try NeuronSet.load(url: URL(fileURLWithPath: match))
            var sizes = set.sizes
            if let spec = model {
                let m = try loadModel(spec)
                try set.validate(against: m.config, fingerprint: m.fingerprint)
                sizes = StructureSizes(config: m.config)
            }
            guard let sizes else {
                throw CLIError.badInput("\(match): records no model sizes (model.layers/model.sizes); pass --model MODEL to take them from the model")
            }
            let r = try NeuronSet.randomMatching(set, sizes: sizes, seed: seed, disjoint: disjoint)
            try r.write(to: try outputURL(output))
            printError("wrote \(output): \(r.totalCount) random neurons (seed \(seed)) matching \(match)")
        }
    }
}

/// A per-layer table of neuron counts by structure, with totals.
func countsTable(_ set: NeuronSet) -> String {
    let sts = NeuronStructure.allCases
    var lines = [pad("layer", 7) + sts.map { lpad($0.rawValue, 12) }.joined() + lpad("total", 9)]
    for l in set.nonEmptyLayers {
        let c = sts.map { set.count(layer: l, structure: $0) }
        lines.append(pad("\(l)", 7) + c.map { lpad("\($0)", 12) }.joined() + lpad("\(c.reduce(0, +))", 9))
    }
    let tot = sts.map { set.count(structure: $0) }
    lines.append(pad("all", 7) + tot.map { lpad("\($0)", 12) }.joined() + lpad("\(set.totalCount)", 9))
    if let sizes = set.sizes, sizes.total > 0 {
        let share = sts.map { s -> String in
            let n = sizes.count(s) * sizes.layers
            return lpad(n > 0 ? String(format: "%.3f%%", 100 * Double(set.count(structure: s)) / Double(n)) : "-", 12)
        }
        lines.append(pad("share", 7) + share.joined() + lpad(String(format: "%.3f%%", 100 * Double(set.totalCount) / Double(sizes.total)), 9))
    }
    return lines.joined(separator: "\n")
}

/// The output URL, creating its directory if needed.
func outputURL(_ path: String) throws -> URL {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent()
    do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
        throw CLIError.badInput("\(dir.path): cannot create the output directory (\(error.localizedDescription))")
    }
    return url
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
