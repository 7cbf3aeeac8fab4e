import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads one URL to a local file. `http(s)` goes through URLSession; `file` URLs are copied
/// (handy for a mirror on a mounted disk).
public struct HTTPDownloader: Sendable {
    /// Seconds without progress before a request is abandoned.
    public var timeout: TimeInterval

    public init(timeout: TimeInterval = 60) {
        self.timeout = timeout
    }

    /// Writes the body of `url` to `destination` (which must not be the final path: callers verify,
    /// then rename). Throws `StoreError.httpStatus` for non-2xx answers and `downloadFailed` otherwise.
    public func download(_ url: URL, to destination: URL) throws {
        if url.isFileURL {
            do {
                try? FileManager.default.removeItem(at: destination)
                try FileManager.default.copyItem(at: url, to: destination)
            } catch {
                throw StoreError.downloadFailed(url: url.absoluteString, reason: error.localizedDescription)
            }
            return
        }
        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        let task = session.dataTask(with: request) { data, response, error in
            box.set(data: data, response: response, error: error)
            semaphore.signal()
        }
        task.resume()
        semaphore.wait()
        let (data, response, error) = box.get()
        if let error {
            throw StoreError.downloadFailed(url: url.absoluteString, reason: error.localizedDescription)
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw StoreError.httpStatus(url: url.absoluteString, status: http.statusCode)
        }
        guard let data else {
            throw StoreError.downloadFailed(url: url.absoluteString, reason: "the server sent no body")
        }
        do {
            try data.write(to: destination)
        } catch {
            throw StoreError.ioFailed(path: destination.path, reason: error.localizedDescription)
        }
    }
}

/// Hands the completion handler's values back to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    private var response: URLResponse?
    private var error: Error?

    func set(data: Data?, response: URLResponse?, error: Error?) {
        lock.lock(); defer { lock.unlock() }
        self.data = data
        self.response = response
        self.error = error
    }

    func get() -> (Data?, URLResponse?, Error?) {
        lock.lock(); defer { lock.unlock() }
        return (data, response, error)
    }
}
