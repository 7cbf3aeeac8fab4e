import Foundation

extension NeuronSet {
    /// The paper's Figure 3 for this set: neurons per layer as stacked bars by structure, SVG.
    public func countsSVG(title: String? = nil) -> String {
        let layerCount = max((layers.keys.max() ?? -1) + 1, 1)
        let structures = NeuronStructure.allCases
        let colors = ["#0057b8", "#4f9de0", "#2a9d3a", "#e0a030", "#b8002e"]
        let totals = (0..<layerCount).map { l in structures.reduce(0) { $0 + count(layer: l, structure: $1) } }
        let maxTotal = Double(max(totals.max() ?? 1, 1))
        let left = 56.0, top = 40.0, ph = 220.0, barW = max(6.0, min(28.0, 560.0 / Double(layerCount))), gap = 3.0
        let w = left + Double(layerCount) * (barW + gap) + 150, h = top + ph + 50
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let heading = title ?? "neurons per layer by structure\(language.map { " (\($0))" } ?? "")"
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left))\" y=\"22\" font-size=\"14\">\(heading.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))</text>\n"
        for i in 0...4 {
            let v = maxTotal * Double(i) / 4, y = top + ph - ph * Double(i) / 4
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + Double(layerCount) * (barW + gap)))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Int(v.rounded()))</text>\n"
        }
        for l in 0..<layerCount {
            let x = left + Double(l) * (barW + gap)
            var y = top + ph
            for (i, st) in structures.enumerated() {
                let n = count(layer: l, structure: st)
                guard n > 0 else { continue }
                let hh = ph * Double(n) / maxTotal
                y -= hh
                s += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(barW))\" height=\"\(f(hh))\" fill=\"\(colors[i])\"><title>layer \(l) \(st.rawValue): \(n)</title></rect>\n"
            }
            if layerCount <= 40 || l % 5 == 0 {
                s += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(top + ph + 14))\" text-anchor=\"middle\">\(l)</text>\n"
            }
        }
        s += "<text x=\"\(f(left + Double(layerCount) * (barW + gap) / 2))\" y=\"\(f(top + ph + 32))\" text-anchor=\"middle\">layer</text>\n"
        let lx = left + Double(layerCount) * (barW + gap) + 16
        for (i, st) in structures.enumerated() {
            let y = top + 16 * Double(i)
            s += "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"11\" height=\"11\" fill=\"\(colors[i])\"/>"
            s += "<text x=\"\(f(lx + 16))\" y=\"\(f(y + 10))\">\(st.rawValue) (\(count(structure: st)))</text>\n"
        }
        return s + "</svg>\n"
    }
}
