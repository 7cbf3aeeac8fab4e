import Foundation

/// Writes `data` to `url` through a temporary file in the same directory and a rename, so a
/// reader never sees a half-written file.
func writeAtomically(_ data: Data, to url: URL) throws {
    let dir = url.deletingLastPathComponent()
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    do {
        try data.write(to: tmp)
        try renameReplacing(tmp, url)
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw NeuronsError.writeFailed(path: url.path, reason: error.localizedDescription)
    }
}

/// POSIX rename: atomically replaces `dst` if it exists (Foundation's `replaceItemAt` fails on
/// Linux when the destination exists).
func renameReplacing(_ src: URL, _ dst: URL) throws {
    guard rename(src.path, dst.path) == 0 else {
        let reason = String(cString: strerror(errno))
        throw NeuronsError.writeFailed(path: dst.path, reason: reason)
    }
}
