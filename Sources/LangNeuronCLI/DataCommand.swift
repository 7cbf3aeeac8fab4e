import ArgumentParser
import Foundation
import Store

/// `langneuron data list|fetch`: the named data sets and where they resolve.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List and download the data sets (Wikipedia samples, XQuAD, MGSM, PLND corpus).",
        discussion: """
        A data set is looked up in $LANGNEURON_DATA, then ./data, then ../shared/data. \
        `fetch` writes to $LANGNEURON_DATA, else ./data; set LANGNEURON_DATA_MIRROR to download \
        from a mirror instead of the canonical URLs.
        """,
        subcommands: [List.self, Path.self, Fetch.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each data set and where it resolves.")

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let root = DataRoot.default
            let rows: [[String: Any]] = root.catalog.dataSets.map { set in
                let path = try? root.resolve(set.name)
                return [
                    "name": set.name,
                    "summary": set.summary,
                    "files": set.files.count,
                    "bytes": set.totalBytes,
                    "status": path == nil ? "missing" : "present",
                    "path": path?.path ?? NSNull(),
                ]
            }
            if json {
                try printJSON(rows)
                return
            }
            for row in rows {
                let name = (row["name"] as? String ?? "").padding(toLength: 10, withPad: " ", startingAt: 0)
                let place = (row["path"] as? String) ?? "missing"
                let mb = String(format: "%7.1f MB", Double(row["bytes"] as? Int64 ?? 0) / 1e6)
                print("\(name) \(mb)  \(place)")
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print where a data set resolves (its folder or file), or fail if it is missing.")

        @Argument(help: "A data set name (see `langneuron data list`).")
        var name: String

        @Option(help: "A file of the data set, e.g. xquad.vi.json for xquad.")
        var file: String?

        func run() throws {
            let root = DataRoot.default
            let url = try file.map { try root.path(forDataset: name, file: $0) } ?? root.resolve(name)
            print(url.path)
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download missing data sets, verifying size and SHA-256 (idempotent).")

        @Argument(help: "Data set names (see `langneuron data list`).")
        var names: [String] = []

        @Flag(help: "Fetch every data set.")
        var all = false

        @Option(help: "Base URL (or absolute folder) of a mirror to download from; default $LANGNEURON_DATA_MIRROR, else the canonical URLs.")
        var mirror: String?

        func validate() throws {
            if names.isEmpty && !all {
                throw ValidationError("name a data set (\(DataCatalog.standard.names.joined(separator: ", "))) or pass --all")
            }
        }

        func run() throws {
            let environment = mirror.map { ["LANGNEURON_DATA_MIRROR": $0] } ?? ProcessInfo.processInfo.environment
            let fetcher = DataFetcher(mirror: DataFetcher.mirrorFromEnvironment(environment), progress: { printError($0) })
            let wanted = all ? fetcher.root.catalog.names : names
            for name in wanted {
                switch try fetcher.fetch(name) {
                case let .alreadyPresent(url):
                    print("\(name): already present at \(url.path)")
                case let .fetched(url, files, bytes):
                    print("\(name): fetched \(files) file(s), \(bytes) bytes, at \(url.path)")
                }
            }
        }
    }
}
