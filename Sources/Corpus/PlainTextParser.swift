/// One document per line (the PLND corpus format); blank lines are ignored.
final class PlainTextParser: RecordParser {
    private var lines: LineScanner
    private let path: String

    init(buffer: StreamBuffer, path: String) {
        lines = LineScanner(buffer: buffer)
        self.path = path
    }

    func next(report: inout ReadReport) throws -> Document? {
        while true {
            let lineNumber = lines.lineNumber + 1
            guard let parsed = try lines.nextLine({ line -> (String?, Bool) in
                guard let s = String(validating: line, as: UTF8.self) else { return (nil, false) }
                return (s, true)
            }) else {
                if lines.longLinesSkipped > 0 { report.skipped[.malformed, default: 0] += lines.longLinesSkipped }
                return nil
            }
            guard parsed.1, let text = parsed.0 else {
                report.pages += 1
                report.skip(.invalidUTF8, "\(path) line \(lineNumber): not valid UTF-8")
                continue
            }
            let trimmed = text.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            report.pages += 1
            report.articles += 1
            return Document(title: "line \(lineNumber)", id: String(lineNumber), text: trimmed)
        }
    }
}

extension String {
    /// Trims ASCII whitespace and U+00A0/U+3000 without Foundation.
    func trimmingWhitespace() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{A0}" || $0 == "\u{3000}" || $0 == "\u{FEFF}" }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return self }
        return String(scalars[first...last])
    }
}
