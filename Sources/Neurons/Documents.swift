import Foundation

/// Reads up to `count` documents from a plain UTF-8 text file, one document per line (blank
/// lines skipped). The single place the detector gets its documents from, until the Corpus
/// module's readers take over.
public func loadDocuments(path: String, count: Int) throws -> [String] {
    guard count > 0 else { throw NeuronsError.invalidOption(name: "--documents", reason: "must be positive, got \(count)") }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw NeuronsError.emptyCorpus(path: path, reason: "cannot read: \(error.localizedDescription)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw NeuronsError.emptyCorpus(path: path, reason: "not valid UTF-8; convert it (e.g. with iconv)")
    }
    var docs = [String]()
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        let s = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.isEmpty { continue }
        docs.append(s)
        if docs.count == count { break }
    }
    guard !docs.isEmpty else { throw NeuronsError.emptyCorpus(path: path, reason: "the file has no non-blank lines") }
    return docs
}
