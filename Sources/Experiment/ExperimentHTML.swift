import Foundation
import Training

/// `report.html`: one self-contained page (no external resources; plots as inline SVG).
public enum ExperimentHTML {
    /// What the page shows besides the results.
    public struct Context {
        public var title: String
        /// One paragraph on what was detected and trained.
        public var summary: String
        /// Neurons per layer (SVG).
        public var neuronsSVG: String
        /// Recipe files by name, as text.
        public var recipes: [(name: String, text: String)]
        /// Fingerprints (model, neuron sets, deltas) by what they are of.
        public var fingerprints: [(name: String, sha256: String)]
        public var wallSeconds: Double?
        /// Wall time of each step the run did, in order.
        public var steps: [(step: String, seconds: Double)]

        public init(title: String, summary: String, neuronsSVG: String, recipes: [(name: String, text: String)],
                    fingerprints: [(name: String, sha256: String)], wallSeconds: Double? = nil, steps: [(step: String, seconds: Double)] = []) {
            self.title = title; self.summary = summary; self.neuronsSVG = neuronsSVG; self.recipes = recipes
            self.fingerprints = fingerprints; self.wallSeconds = wallSeconds; self.steps = steps
        }
    }

    /// A Markdown table as written by `ExperimentReport` (pipes, a separator row) as an HTML table.
    static func table(markdown: String) -> String {
        let lines = markdown.split(separator: "\n").map(String.init).filter { $0.hasPrefix("|") }
        guard lines.count >= 2 else { return "" }
        func cells(_ line: String) -> [String] {
            var parts = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            parts.removeFirst(); parts.removeLast()
            return parts
        }
        let aligns = cells(lines[1]).map { $0.hasSuffix(":") ? " class=\"num\"" : "" }
        var s = "<table>\n<thead><tr>" + cells(lines[0]).map { "<th>\(ExperimentReport.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for l in lines.dropFirst(2) {
            let c = cells(l)
            s += "<tr>" + c.enumerated().map { i, v in "<td\(i < aligns.count ? aligns[i] : "")>\(ExperimentReport.escape(v))</td>" }.joined() + "</tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    public static func page(_ r: ExperimentResults, context c: Context) -> String {
        let esc = ExperimentReport.escape
        let series = r.runs.map { (name: $0.name, history: $0.history) }.filter { !$0.history.isEmpty }
        var s = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(c.title))</title>
        <style>
        body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f3f3f3; }
        pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 13px; }
        figure { margin: 1em 0; }
        code { font-size: 13px; }
        </style>
        </head>
        <body>
        <h1>\(esc(c.title))</h1>
        <p>\(esc(c.summary))</p>

        """
        if let w = c.wallSeconds { s += "<p>Wall time of this run: \(esc(ExperimentReport.duration(w))).</p>\n" }
        s += "<h2>Results</h2>\n" + table(markdown: ExperimentReport.markdown(r))
        s += "<h2>Training</h2>\n" + table(markdown: ExperimentReport.trainingMarkdown(r))
        if !r.runs(of: .random).isEmpty { s += "<h2>Random draws</h2>\n" + table(markdown: ExperimentReport.drawsMarkdown(r)) }
        if r.metricKinds.contains(where: { $0.key == "ppl" }) {
            s += "<h2>Perplexity with 95% bootstrap intervals</h2>\n" + table(markdown: ExperimentReport.intervalsMarkdown(r))
            let paired = ExperimentReport.pairedChangesMarkdown(r)
            if !paired.isEmpty {
                s += "<h2>Perplexity change against the base, paired 95% bootstrap intervals</h2>\n<p>\(esc(ExperimentReport.pairedNote))</p>\n" + table(markdown: paired)
            }
        }
        s += "<h2>Training loss</h2>\n<figure>\n" + LossPlot.svg(series: series, title: "training loss: \(r.language) on \(r.model)") + "</figure>\n"
        s += "<h2>Change against the base</h2>\n"
        for m in r.metricKinds { s += "<figure>\n" + ExperimentReport.changeSVG(r, metric: m) + "</figure>\n" }
        s += "<h2>Neurons per layer</h2>\n<figure>\n" + c.neuronsSVG + "</figure>\n"
        if !c.steps.isEmpty { s += "<h2>Wall time of the steps this run did</h2>\n" + table(markdown: ExperimentReport.stepsMarkdown(c.steps, total: c.wallSeconds)) }
        s += "<h2>Recipes</h2>\n"
        for rec in c.recipes { s += "<h3><code>\(esc(rec.name))</code></h3>\n<pre>\(esc(rec.text))</pre>\n" }
        s += "<h2>Fingerprints (SHA-256)</h2>\n<table>\n<tbody>\n"
        for f in c.fingerprints { s += "<tr><td>\(esc(f.name))</td><td><code>\(esc(f.sha256))</code></td></tr>\n" }
        s += "</tbody>\n</table>\n</body>\n</html>\n"
        return s
    }
}
