import Foundation

/// An SVG line plot of loss (and learning rate, scaled to the right axis) by step, written next
/// to `metrics.jsonl` so a run's curve can be looked at without any other tool.
public enum LossPlot {
    public static func svg(_ history: [StepMetrics], title: String) -> String {
        svg(series: [("loss", history)], title: title)
    }

    /// Several runs' losses on one plot (the learning rate of the first), e.g. the two arms of an experiment.
    public static func svg(series: [(name: String, history: [StepMetrics])], title: String) -> String {
        let history = series.first?.history ?? []
        let colors = ["#0057b8", "#2a9d3a", "#b8002e", "#7a3db8", "#e0a030", "#555555", "#17becf", "#8c564b"]
        let w = 640.0, h = 360.0, left = 56.0, right = 56.0, top = 36.0, bottom = 44.0
        let pw = w - left - right, ph = h - top - bottom
        guard let first = history.first, let last = history.last else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"40\"><text x=\"8\" y=\"24\">no steps</text></svg>\n"
        }
        let losses = series.flatMap { $0.history.map(\.loss) }.filter(\.isFinite)
        var lo = losses.min() ?? 0, hi = losses.max() ?? 1
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let maxLR = max(history.map(\.lr).max() ?? 0, 1e-30)
        let lastStep = series.map { $0.history.last?.step ?? 0 }.max() ?? last.step
        let s0 = Double(first.step), s1 = Double(max(lastStep, first.step + 1))
        func x(_ s: Int) -> Double { left + (Double(s) - s0) / (s1 - s0) * pw }
        func y(_ v: Double) -> Double { top + (1 - (v - lo) / (hi - lo)) * ph }
        func yLR(_ v: Double) -> Double { top + (1 - v / maxLR) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(w / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">\(esc(title))</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#999\"/>\n"
        for i in 0...4 {
            let v = lo + (hi - lo) * Double(i) / 4
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
            let r = maxLR * Double(i) / 4
            s += "<text x=\"\(f(left + pw + 6))\" y=\"\(f(yLR(r) + 4))\" fill=\"#c60\">\(String(format: "%.2g", r))</text>\n"
        }
        s += "<text x=\"\(f(left))\" y=\"\(f(h - 12))\">step \(first.step)</text>\n"
        s += "<text x=\"\(f(left + pw))\" y=\"\(f(h - 12))\" text-anchor=\"end\">step \(lastStep)</text>\n"
        let lrPts = history.map { "\(f(x($0.step))),\(f(yLR($0.lr)))" }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"#c60\" stroke-width=\"1\" stroke-dasharray=\"4 3\" points=\"\(lrPts)\"/>\n"
        for (i, one) in series.enumerated() {
            let color = colors[i % colors.count]
            let pts = one.history.filter { $0.loss.isFinite }.map { "\(f(x($0.step))),\(f(y($0.loss)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(pts)\"/>\n"
            s += "<text x=\"\(f(left + 8))\" y=\"\(f(top + 16 + 16 * Double(i)))\" fill=\"\(color)\">\(esc(one.name)) (left axis)</text>\n"
        }
        s += "<text x=\"\(f(left + 8))\" y=\"\(f(top + 16 + 16 * Double(series.count)))\" fill=\"#c60\">learning rate (right axis)</text>\n"
        s += "</svg>\n"
        return s
    }
}
