import Foundation
import ModelIO

/// One JSON object per line with a string `text` and optional `title`, `id`, `url`
/// (WikiExtractor `--json`, OSCAR, Hugging Face `datasets` exports).
final class JSONLinesParser: RecordParser {
    private var lines: LineScanner
    private let path: String

    init(buffer: StreamBuffer, path: String) {
        lines = LineScanner(buffer: buffer)
        self.path = path
    }

    func next(report: inout ReadReport) throws -> Document? {
        while true {
            let lineNumber = lines.lineNumber + 1
            guard let parsed = try lines.nextLine({ line -> Result<Document?, ParseFailure> in
                Self.parse(line, lineNumber: lineNumber)
            }) else {
                if lines.longLinesSkipped > 0 { report.skipped[.malformed, default: 0] += lines.longLinesSkipped }
                // A missing final newline is common; it is a cut only if that line did not parse.
                if lines.lastLineUnterminated, lastLineFailed {
                    report.truncated = true
                    report.truncationDetail = "the last line (\(lines.lineNumber)) is cut short"
                }
                return nil
            }
            lastLineFailed = false
            switch parsed {
            case .success(nil):
                continue  // blank line
            case .success(let doc?):
                report.pages += 1
                report.articles += 1
                return doc
            case .failure(let failure):
                report.pages += 1
                lastLineFailed = true
                report.skip(failure.reason, "\(path) line \(lineNumber): \(failure.message)")
            }
        }
    }

    private var lastLineFailed = false

    struct ParseFailure: Error {
        var reason: SkipReason
        var message: String
    }

    static func parse(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> Result<Document?, ParseFailure> {
        var blank = true
        for b in line where b != 0x20 && b != 0x09 { blank = false; break }
        if blank { return .success(nil) }
        guard utf8IsValid(line) else {
            return .failure(ParseFailure(reason: .invalidUTF8, message: "not valid UTF-8"))
        }
        // A document is a flat object; deep nesting is corrupt input, refused before the parser.
        if let v = TextLimits.checkJSON(UnsafeRawBufferPointer(line), maxBytes: .max) {
            return .failure(ParseFailure(reason: .malformed, message: "the line \(v.reason)"))
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(buffer: line), options: [])
        } catch {
            return .failure(ParseFailure(reason: .malformed, message: "not a JSON object"))
        }
        guard let dict = object as? [String: Any] else {
            return .failure(ParseFailure(reason: .malformed, message: "not a JSON object"))
        }
        guard let text = dict["text"] as? String else {
            return .failure(ParseFailure(reason: .missingText, message: "no string field \"text\""))
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            return .failure(ParseFailure(reason: .missingText, message: "empty \"text\""))
        }
        let id: String
        switch dict["id"] {
        case let s as String: id = s
        case let n as NSNumber: id = n.stringValue
        default: id = String(lineNumber)
        }
        let title = dict["title"] as? String ?? "line \(lineNumber)"
        return .success(Document(title: title, id: id, text: trimmed, url: dict["url"] as? String))
    }
}
