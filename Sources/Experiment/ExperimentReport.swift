import Foundation

/// The experiment's tables (Markdown), `report.json` and the change plot.
public enum ExperimentReport {
    /// A change with its sign, `decimals` places; one that rounds to zero reads "+0.0", never "-0.0".
    public static func signed(_ v: Double, decimals: Int) -> String {
        let text = String(format: "%+.\(decimals)f", v)
        return text.hasPrefix("-") && Double(text) == 0 ? "+" + text.dropFirst() : text
    }

    static func show(_ m: MetricKind, _ v: Double) -> String {
        m.relative ? String(format: "%.3f", v) : String(format: "%.1f%%", 100 * v)
    }

    static func showChange(_ m: MetricKind, _ v: Double) -> String {
        m.relative ? signed(v, decimals: 2) + "%" : signed(v, decimals: 1)
    }

    /// "mean ± sd" of values (sd of values is in the metric's own unit).
    static func showValue(_ m: MetricKind, _ s: Spread) -> String {
        guard let sd = s.std else { return show(m, s.mean) }
        return show(m, s.mean) + " ± " + (m.relative ? String(format: "%.3f", sd) : String(format: "%.1f", 100 * sd))
    }

    static func showChangeSpread(_ m: MetricKind, _ s: Spread) -> String {
        guard let sd = s.std else { return showChange(m, s.mean) }
        return showChange(m, s.mean) + " ± " + String(format: m.relative ? "%.2f" : "%.1f", sd)
    }

    /// Column header of an arm.
    static func header(_ r: ExperimentResults, _ a: Arm) -> String {
        let n = r.runs(of: a).count
        return a == .random && n > 1 ? "random (mean ± sd, \(n) draws)" : a.rawValue
    }

    /// The results table: language × metric rows, base and arm columns, then each arm's change;
    /// then the mean change over the other languages.
    public static func markdown(_ r: ExperimentResults) -> String {
        let arms = r.arms
        var s = "| language | metric | base | " + arms.map { header(r, $0) }.joined(separator: " | ") + " | "
            + arms.map { "Δ \($0.rawValue)" }.joined(separator: " | ") + " |\n"
        s += "|---|---|" + String(repeating: "---:|", count: 1 + 2 * arms.count) + "\n"
        for lang in r.languages {
            for m in r.metricKinds {
                guard let b = r.base[lang]?[m.key] else { continue }
                let vals = arms.map { a in r.value(a, lang, m).map { showValue(m, $0) } ?? "-" }
                let deltas = arms.map { a in r.change(a, lang, m).map { showChangeSpread(m, $0) } ?? "-" }
                s += "| \(lang) | \(m.label) | \(show(m, b)) | " + vals.joined(separator: " | ") + " | " + deltas.joined(separator: " | ") + " |\n"
            }
        }
        if !r.otherLanguages.isEmpty {
            for m in r.metricKinds {
                let deltas = arms.map { a in r.otherLanguagesChange(a, m).map { showChangeSpread(m, $0) } ?? "-" }
                guard deltas.contains(where: { $0 != "-" }) else { continue }
                s += "| other languages (\(r.otherLanguages.joined(separator: ", "))) | \(m.label), mean Δ | | "
                    + String(repeating: " | ", count: arms.count) + deltas.joined(separator: " | ") + " |\n"
            }
        }
        return s
    }

    /// Trainable parameters, train time, peak memory and final loss per arm (random: mean ± sd over
    /// draws; lora: with the rank it trained).
    public static func trainingMarkdown(_ r: ExperimentResults) -> String {
        var s = "| arm | trainable parameters | train time | peak memory | final train loss |\n|---|---:|---:|---:|---:|\n"
        s += "| base | 0 | - | - | - |\n"
        for a in r.arms {
            let t = r.runs(of: a).compactMap(\.training)
            func spread(_ f: (TrainOutcome) -> Double?, _ fmt: (Double) -> String, _ sdFmt: String) -> String {
                let v = t.compactMap(f)
                guard !v.isEmpty else { return "-" }
                let sp = Spread(v)
                return fmt(sp.mean) + (sp.std.map { " ± " + String(format: sdFmt, $0) } ?? "")
            }
            let params = r.trainableParameters(a).map(String.init) ?? "-"
            let label = t.first?.loraRank.map { "\(a.rawValue) (rank \($0))" } ?? a.rawValue
            s += "| \(label) | \(params) | \(spread({ $0.seconds }, duration, "%.0f s")) | "
                + "\(spread({ $0.peakMemoryMB }, { String(format: "%.0f MB", $0) }, "%.0f")) | "
                + "\(spread({ $0.finalLoss }, { String(format: "%.4f", $0) }, "%.4f")) |\n"
        }
        return s
    }

    /// Each random draw on its own row, with its change against the base.
    public static func drawsMarkdown(_ r: ExperimentResults) -> String {
        let draws = r.runs(of: .random)
        guard !draws.isEmpty else { return "" }
        let cells = r.languages.flatMap { l in r.metricKinds.filter { r.base[l]?[$0.key] != nil }.map { (l, $0) } }
        var s = "| draw (seed) | " + cells.map { "\($0.0) \($0.1.label)" }.joined(separator: " | ") + " | final train loss |\n"
        s += "|---|" + String(repeating: "---:|", count: cells.count + 1) + "\n"
        for d in draws {
            let v = cells.map { (l, m) -> String in
                guard let x = d.metrics[l]?[m.key], let b = r.base[l]?[m.key] else { return "-" }
                return show(m, x) + " (" + showChange(m, m.change(x, base: b)) + ")"
            }
            s += "| \(d.seed.map(String.init) ?? "-") | " + v.joined(separator: " | ") + " | " + (d.training?.finalLoss.map { String(format: "%.4f", $0) } ?? "-") + " |\n"
        }
        return s
    }

    /// Perplexity with its 95% bootstrap interval, per arm and language (random: each draw).
    public static func intervalsMarkdown(_ r: ExperimentResults) -> String {
        let cols: [(String, ArmMetrics)] = [("base", r.base)] + r.runs.map { ($0.name, $0.metrics) }
        var s = "| language | " + cols.map(\.0).joined(separator: " | ") + " |\n|---|" + String(repeating: "---:|", count: cols.count) + "\n"
        for l in r.languages where r.base[l]?["ppl"] != nil {
            s += "| \(l) | " + cols.map { c in
                guard let p = c.1[l]?["ppl"], let lo = c.1[l]?["ppl_low"], let hi = c.1[l]?["ppl_high"] else { return "-" }
                return String(format: "%.3f [%.3f, %.3f]", p, lo, hi)
            }.joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// Perplexity change against the base with its 95% paired bootstrap interval (the same documents
    /// resampled for both models; `Perplexity.pairedChange`), per trained model and language; an
    /// interval that excludes 0 is a change the held-out documents agree on.
    /// What the paired table means, in one sentence for the report.
    public static let pairedNote = "The held-out documents are resampled together for the base and each trained model, "
        + "so the interval shows how consistently a model changes the same documents; one that excludes 0 is a change the documents agree on."

    public static func pairedChangesMarkdown(_ r: ExperimentResults) -> String {
        let runs = r.runs.filter { run in r.languages.contains { run.metrics[$0]?["ppl_change_low"] != nil } }
        guard !runs.isEmpty else { return "" }
        var s = "| language | " + runs.map(\.name).joined(separator: " | ") + " |\n|---|" + String(repeating: "---:|", count: runs.count) + "\n"
        for l in r.languages where r.base[l]?["ppl"] != nil {
            s += "| \(l) | " + runs.map { run in
                guard let c = run.metrics[l]?["ppl_change"], let lo = run.metrics[l]?["ppl_change_low"], let hi = run.metrics[l]?["ppl_change_high"] else { return "-" }
                return signed(c, decimals: 2) + "% [" + signed(lo, decimals: 2) + ", " + signed(hi, decimals: 2) + "]"
            }.joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// Each step's wall time, then the whole run's.
    public static func stepsMarkdown(_ steps: [(step: String, seconds: Double)], total: Double?) -> String {
        "| step | wall time |\n|---|---:|\n" + steps.map { "| \($0.step) | \(duration($0.seconds)) |\n" }.joined()
            + (total.map { "| whole run | \(duration($0)) |\n" } ?? "")
    }

    public static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }

    /// `report.json`: `arms` (base, language, random = mean over draws with `*_std`, lora, full),
    /// `random_draws`, `trainable_parameters`, `training`, `changes`, `other_languages`.
    public static func json(_ r: ExperimentResults, extra: [String: Any]) throws -> Data {
        func finite(_ m: [String: Double]) -> [String: Double] { m.filter { $0.value.isFinite } }
        func spreadObject(_ s: Spread, _ key: String) -> [String: Double] {
            var o = [key: s.mean]
            if let sd = s.std { o[key + "_std"] = sd }
            return finite(o)
        }
        func training(_ t: TrainOutcome?) -> Any {
            guard let t else { return NSNull() }
            var o = [String: Any]()
            if let v = t.trainableParameters { o["trainable_parameters"] = v }
            if let v = t.seconds { o["seconds"] = v }
            if let v = t.peakMemoryMB { o["peak_memory_mb"] = v }
            if let v = t.finalLoss, v.isFinite { o["final_loss"] = v }
            if let v = t.steps { o["steps"] = v }
            if let v = t.loraRank { o["lora_rank"] = v }
            return o
        }
        var arms: [String: Any] = ["base": r.base.mapValues(finite)]
        var changes = [String: Any](), other = [String: Any](), params: [String: Any] = ["base": 0], train = [String: Any]()
        for a in r.arms {
            let runs = r.runs(of: a)
            if a == .random {
                var mean = [String: [String: Double]]()
                for l in r.languages {
                    var o = [String: Double]()
                    let keys = Set(runs.flatMap { $0.metrics[l]?.keys.map { $0 } ?? [] })
                    for k in keys {
                        let v = runs.compactMap { $0.metrics[l]?[k] }
                        guard v.count == runs.count else { continue }
                        o.merge(spreadObject(Spread(v), k)) { a, _ in a }
                    }
                    if !o.isEmpty { mean[l] = o }
                }
                arms["random"] = mean
            } else if let one = runs.first {
                arms[a.rawValue] = one.metrics.mapValues(finite)
            }
            var ch = [String: [String: Double]]()
            for l in r.languages {
                var o = [String: Double]()
                for m in r.metricKinds { if let c = r.change(a, l, m) { o.merge(spreadObject(c, m.key)) { a, _ in a } } }
                if !o.isEmpty { ch[l] = o }
            }
            changes[a.rawValue] = ch
            var ot = [String: Double]()
            for m in r.metricKinds { if let c = r.otherLanguagesChange(a, m) { ot.merge(spreadObject(c, m.key)) { a, _ in a } } }
            other[a.rawValue] = ot
            params[a.rawValue] = r.trainableParameters(a).map { $0 as Any } ?? NSNull()
            if a != .random { train[a.rawValue] = training(runs.first?.training) }
        }
        var report = extra
        report["format"] = "langneuron.experiment/2"
        report["model"] = r.model
        report["model_fingerprint"] = r.modelFingerprint
        report["language"] = r.language
        report["languages"] = r.languages
        report["arms"] = arms
        report["random_draws"] = r.runs(of: .random).map { d -> [String: Any] in
            ["seed": d.seed.map { Int(truncatingIfNeeded: $0) } ?? 0, "name": d.name, "metrics": d.metrics.mapValues(finite), "training": training(d.training)]
        }
        report["trainable_parameters"] = params
        report["training"] = train
        report["changes"] = changes
        report["other_languages"] = ["languages": r.otherLanguages, "mean_change": other] as [String: Any]
        return try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static let armColors: [Arm: String] = [.language: "#0057b8", .random: "#888888", .lora: "#7a3db8", .full: "#2a9d3a"]

    /// Bars: change of each arm against the base per language for one metric; the random arm's bar
    /// is its mean with ±1 sd error bars and each draw as a dot.
    public static func changeSVG(_ r: ExperimentResults, metric m: MetricKind) -> String {
        let arms = r.arms
        let langs = r.languages.filter { r.base[$0]?[m.key] != nil }
        let barW = 30.0, left = 70.0, top = 48.0, ph = 220.0
        let groupW = Double(max(1, arms.count)) * (barW + 14) + 24
        let w = max(360, left + Double(langs.count) * groupW + 20), h = top + ph + 70
        var extremes = [Double]()
        for l in langs {
            for a in arms {
                guard let c = r.change(a, l, m) else { continue }
                extremes += c.values + [c.mean + (c.std ?? 0), c.mean - (c.std ?? 0)]
            }
        }
        let maxAbs = max(m.relative ? 0.5 : 1, extremes.filter(\.isFinite).map(abs).max() ?? 1) * 1.1
        func y(_ v: Double) -> Double { top + ph / 2 - v / maxAbs * (ph / 2) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let unit = m.relative ? "%" : "points"
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"10\" y=\"20\" font-size=\"14\">\(m.label) change vs base (\(unit))</text>\n"
        s += "<text x=\"10\" y=\"34\" font-size=\"11\" fill=\"#555\">random: mean ± 1 sd over the draws; dots: each draw</text>\n"
        for t in [-maxAbs / 1.1, 0, maxAbs / 1.1] {
            s += "<line x1=\"\(f(left - 4))\" x2=\"\(f(w - 10))\" y1=\"\(f(y(t)))\" y2=\"\(f(y(t)))\" stroke=\"\(t == 0 ? "#333" : "#eee")\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(signed(t, decimals: m.relative ? 2 : 1))</text>\n"
        }
        var x = left + 10
        for l in langs {
            let gx = x
            for a in arms {
                let color = armColors[a] ?? "#444"
                if let c = r.change(a, l, m), c.mean.isFinite {
                    let y0 = min(y(0), y(c.mean)), hh = abs(y(c.mean) - y(0))
                    s += "<rect x=\"\(f(x))\" y=\"\(f(y0))\" width=\"\(f(barW))\" height=\"\(f(max(hh, 0.5)))\" fill=\"\(color)\" fill-opacity=\"0.85\"/>\n"
                    if let sd = c.std {
                        let cx = x + barW / 2
                        s += "<line x1=\"\(f(cx))\" x2=\"\(f(cx))\" y1=\"\(f(y(c.mean - sd)))\" y2=\"\(f(y(c.mean + sd)))\" stroke=\"#000\" stroke-width=\"1.5\"/>"
                        s += "<line x1=\"\(f(cx - 6))\" x2=\"\(f(cx + 6))\" y1=\"\(f(y(c.mean - sd)))\" y2=\"\(f(y(c.mean - sd)))\" stroke=\"#000\" stroke-width=\"1.5\"/>"
                        s += "<line x1=\"\(f(cx - 6))\" x2=\"\(f(cx + 6))\" y1=\"\(f(y(c.mean + sd)))\" y2=\"\(f(y(c.mean + sd)))\" stroke=\"#000\" stroke-width=\"1.5\"/>\n"
                    }
                    if c.values.count > 1 {
                        for v in c.values { s += "<circle cx=\"\(f(x + barW / 2 + 9))\" cy=\"\(f(y(v)))\" r=\"2.2\" fill=\"#b8002e\"/>" }
                        s += "\n"
                    }
                    let labelY = c.mean < 0 ? y(c.mean - (c.std ?? 0)) + 13 : y(c.mean + (c.std ?? 0)) - 4
                    s += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(labelY))\" text-anchor=\"middle\" font-size=\"10\">\(signed(c.mean, decimals: m.relative ? 2 : 1))</text>\n"
                }
                x += barW + 14
            }
            s += "<text x=\"\(f((gx + x - 4) / 2))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(escape(l))</text>\n"
            x += 24
        }
        for (i, a) in arms.enumerated() {
            s += "<rect x=\"\(f(left + 110 * Double(i)))\" y=\"\(f(h - 26))\" width=\"12\" height=\"12\" fill=\"\(armColors[a] ?? "#444")\"/>"
            s += "<text x=\"\(f(left + 16 + 110 * Double(i)))\" y=\"\(f(h - 16))\">\(a.rawValue)</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Text for HTML and SVG: &, <, >, " escaped.
    public static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
