import CBz2
import CZstd
import Foundation
import TestSupport
import XCTest
@testable import Corpus

/// A fresh temporary directory per test, removed afterwards.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Path of a sample under `shared/data`, or skip the test when `shared/` is absent.
func samplePath(_ relative: String) throws -> String {
    let url = SharedData.url("data/" + relative)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw XCTSkip("shared data \(relative) not found (set LANGNEURON_SHARED)")
    }
    return url.path
}

/// bzip2-compresses `bytes` as one stream (libbz2).
func bzip2(_ bytes: [UInt8], blockSize100k: Int32 = 9) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: bytes.count + bytes.count / 100 + 600)
    var outLength = UInt32(out.count)
    var input = bytes
    let rc = input.withUnsafeMutableBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            BZ2_bzBuffToBuffCompress(UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self), &outLength,
                                     UnsafeMutableRawPointer(src.baseAddress!).assumingMemoryBound(to: CChar.self),
                                     UInt32(src.count), blockSize100k, 0, 0)
        }
    }
    precondition(rc == BZ_OK, "BZ2_bzBuffToBuffCompress failed: \(rc)")
    return Array(out.prefix(Int(outLength)))
}

/// zstd-compresses `bytes` as one frame.
func zstd(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let n = bytes.withUnsafeBytes { src in
        out.withUnsafeMutableBytes { dst in ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, 3) }
    }
    precondition(ZSTD_isError(n) == 0)
    return Array(out.prefix(n))
}

/// A minimal MediaWiki export with the given `<page>` bodies.
func mediawikiXML(_ pages: [String], siteinfo: String = defaultSiteinfo, close: Bool = true) -> String {
    var s = "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\" version=\"0.11\" xml:lang=\"en\">\n" + siteinfo
    for p in pages { s += "  <page>\n" + p + "\n  </page>\n" }
    if close { s += "</mediawiki>\n" }
    return s
}

let defaultSiteinfo = """
  <siteinfo>
    <dbname>testwiki</dbname>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="4" case="first-letter">Wikipedia</namespace>
      <namespace key="6" case="first-letter">Tập tin</namespace>
      <namespace key="14" case="first-letter">Thể loại</namespace>
    </namespaces>
  </siteinfo>

"""

/// A page body: title, ns, id, optional redirect, and raw (already XML-escaped) text.
func page(_ title: String, id: Int, ns: Int = 0, redirect: String? = nil, text: String?) -> String {
    var s = "    <title>\(title)</title>\n    <ns>\(ns)</ns>\n    <id>\(id)</id>\n"
    if let redirect { s += "    <redirect title=\"\(redirect)\" />\n" }
    s += "    <revision>\n      <id>\(id * 10)</id>\n"
    if let text { s += "      <text bytes=\"\(text.utf8.count)\" xml:space=\"preserve\">\(text)</text>\n" } else { s += "      <text bytes=\"0\" />\n" }
    s += "    </revision>"
    return s
}

func readAll(bytes: [UInt8], name: String, options: DocumentReader.Options = .init()) throws -> ([Document], ReadReport) {
    let reader = try DocumentReader(bytes: bytes, name: name, options: options)
    let docs = try reader.readAll()
    return (docs, reader.report)
}
