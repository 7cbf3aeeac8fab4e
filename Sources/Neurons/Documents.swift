import Corpus
import Foundation

/// Reads the first `count` documents of a corpus in any format the Corpus module reads
/// (Wikipedia XML dumps plain/.bz2/.zst, JSON lines, plain text with one document per line),
/// cleaned of wiki markup, skipping documents shorter than `minChars` characters.
public func loadDocuments(path: String, count: Int, minChars: Int = 0) throws -> [String] {
    guard count > 0 else { throw NeuronsError.invalidOption(name: "--documents", reason: "must be positive, got \(count)") }
    let reader: DocumentReader
    do { reader = try DocumentReader(path: path, options: .init(minChars: minChars)) } catch {
        throw NeuronsError.emptyCorpus(path: path, reason: error.localizedDescription)
    }
    var docs = [String]()
    while docs.count < count, let d = try reader.next() {
        let s = d.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !s.isEmpty { docs.append(s) }
    }
    guard !docs.isEmpty else { throw NeuronsError.emptyCorpus(path: path, reason: "no documents (\(reader.report.documents) read)") }
    return docs
}
