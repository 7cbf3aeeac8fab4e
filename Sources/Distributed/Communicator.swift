import CMPI
import Foundation

/// The processes of one job: this process's rank, how many there are, and the few collective
/// operations data-parallel detection, training and evaluation need (fixed-order sums, gathers,
/// a broadcast, a barrier, an abort).
///
/// Started by `mpirun`, `Communicator.world` initialises MPI (Open MPI) and spans every rank of
/// `MPI_COMM_WORLD`. Started any other way (no `OMPI_COMM_WORLD_SIZE` in the environment) it is a
/// single rank that never calls into MPI, so a plain `langneuron …` behaves as it always did.
///
/// Every reduction is deterministic for a given number of ranks: buffers are gathered from all
/// ranks and summed in rank order on each of them, so every rank gets the same bits and the result
/// does not depend on the message timing or the algorithm Open MPI picks.
public final class Communicator: @unchecked Sendable {
    /// The job this process belongs to (a single rank without mpirun).
    public static let world = Communicator(environment: ProcessInfo.processInfo.environment)

    /// This process's rank, 0 ..< size.
    public let rank: Int
    /// Number of ranks in the job.
    public let size: Int
    /// Rank among the ranks on this host, and how many ranks share this host (Open MPI's
    /// `OMPI_COMM_WORLD_LOCAL_RANK` / `OMPI_COMM_WORLD_LOCAL_SIZE`).
    public let localRank: Int
    public let localSize: Int
    /// Whether MPI was initialised (started by mpirun, even with one rank).
    public let usesMPI: Bool
    /// Host name, for messages.
    public let host: String

    /// Payload bytes this rank handed to collectives and received from other ranks, since start or
    /// the last `resetCounters()` (logical payload, whatever algorithm Open MPI uses underneath).
    public private(set) var bytesSent = 0
    public private(set) var bytesReceived = 0
    /// Collective operations this rank has taken part in.
    public private(set) var collectives = 0

    private var finalized = false
    /// Elements per collective call: bounds the receive buffer (size × chunk) and keeps counts in Int32.
    /// `LANGNEURON_MPI_CHUNK` sets it (scripts/mpi-test.sh checks that it does not change results).
    static let chunkElements = ProcessInfo.processInfo.environment["LANGNEURON_MPI_CHUNK"].flatMap(Int.init).map { max(1, $0) } ?? 1 << 20

    /// A single rank that never touches MPI (what `world` is without mpirun).
    public static func single() -> Communicator { Communicator(environment: [:]) }

    init(environment env: [String: String]) {
        var name = [CChar](repeating: 0, count: 256)
        host = gethostname(&name, 255) == 0 ? String(cString: name) : "?"
        guard env["OMPI_COMM_WORLD_SIZE"] != nil else {
            rank = 0; size = 1; localRank = 0; localSize = 1; usesMPI = false
            return
        }
        usesMPI = true
        var provided: Int32 = 0
        // Funneled: only the main thread calls MPI; worker threads (BLAS, PLND tasks) never do.
        let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        if rc != MPI_SUCCESS {
            FileHandle.standardError.write(Data("langneuron: MPI_Init failed (error \(rc)); is this mpirun from Open MPI (Debian openmpi-bin)?\n".utf8))
            exit(1)
        }
        // Errors come back as codes, so a lost rank is reported as one line instead of Open MPI's banner.
        MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        rank = Int(r); size = Int(s)
        localRank = env["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap(Int.init) ?? 0
        localSize = max(1, env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1)
    }

    /// Rank 0 writes files and prints progress.
    public var isRoot: Bool { rank == 0 }

    /// More than one rank.
    public var isParallel: Bool { size > 1 }

    /// Threads this rank should use for BLAS and worker pools: the host's processors shared
    /// evenly among the ranks on the host (at least one).
    /// A rank that mpirun bound to fewer cores (its default for up to 2 ranks: one core each) gets
    /// no more threads than it may run on.
    public var threadsPerRank: Int {
        max(1, min(ProcessInfo.processInfo.processorCount / localSize, Communicator.allowedCores() ?? Int.max))
    }

    /// Cores this process may run on (its CPU affinity: `Cpus_allowed_list` of /proc/self/status,
    /// e.g. "0-3,6"), when the system says. Glibc's sched_getaffinity is not visible from Swift.
    public static func allowedCores() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return allowedCores(list: String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// Cores in a Linux CPU list ("0-3,6" is 5); nil if it cannot be read.
    static func allowedCores(list: String) -> Int? {
        var n = 0
        for part in list.trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch ends.count {
            case 1: guard ends[0] != nil else { return nil }; n += 1
            case 2: guard let a = ends[0], let b = ends[1], b >= a else { return nil }; n += b - a + 1
            default: return nil
            }
        }
        return n > 0 ? n : nil
    }

    /// The part of `0 ..< count` this rank owns: contiguous blocks in rank order, the first
    /// `count % size` ranks one longer, so concatenating the blocks in rank order gives `0 ..< count`.
    public func share(of count: Int) -> Range<Int> {
        Communicator.share(of: count, rank: rank, size: size)
    }

    /// The block of `0 ..< count` of rank `rank` among `size` (see `share(of:)`).
    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    public func resetCounters() { bytesSent = 0; bytesReceived = 0; collectives = 0 }

    // MARK: - Reductions

    /// Replaces every buffer with the sum over ranks of the same buffer, added in rank order
    /// (rank 0's value, plus rank 1's, …) in Float: the same bits on every rank, and for one rank
    /// the buffer unchanged. All ranks must pass buffers of the same sizes in the same order.
    public func sumInRankOrder(_ buffers: [UnsafeMutableBufferPointer<Float>], what: String) throws {
        try sum(buffers, datatype: cmpi_float(), what: what)
    }

    /// `sumInRankOrder` for Double buffers.
    public func sumInRankOrder(_ buffers: [UnsafeMutableBufferPointer<Double>], what: String) throws {
        try sum(buffers, datatype: cmpi_double(), what: what)
    }

    /// Sum over ranks of a few Doubles (rank order), e.g. a step's loss and token count.
    public func sumInRankOrder(_ values: [Double], what: String) throws -> [Double] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try sumInRankOrder([$0], what: what) }
        return v
    }

    /// Whether `flag` is true on any rank (e.g. an interrupt seen by one rank stops them all at the same step).
    public func any(_ flag: Bool, what: String) throws -> Bool {
        try sumInRankOrder([flag ? 1 : 0], what: what)[0] > 0
    }

    private func sum<T: BinaryFloatingPoint>(_ buffers: [UnsafeMutableBufferPointer<T>], datatype: MPI_Datatype?, what: String) throws {
        guard size > 1 else { return }
        let total = buffers.reduce(0) { $0 + $1.count }
        try checkSameCount(total, what: what)
        // One staging copy of all buffers and one receive buffer per call (a step's worth, not per element).
        let flat = UnsafeMutablePointer<T>.allocate(capacity: max(total, 1))
        defer { flat.deallocate() }
        var o = 0
        for b in buffers where b.count > 0 { (flat + o).update(from: b.baseAddress!, count: b.count); o += b.count }
        let chunk = min(Communicator.chunkElements, max(total, 1))
        let gathered = UnsafeMutablePointer<T>.allocate(capacity: chunk * size)
        defer { gathered.deallocate() }
        var start = 0
        while start < total {
            let n = min(chunk, total - start)
            let rc = MPI_Allgather(flat + start, Int32(n), datatype, gathered, Int32(n), datatype, cmpi_comm_world())
            try check(rc, "MPI_Allgather", what: what)
            count(sent: n * MemoryLayout<T>.size, received: n * MemoryLayout<T>.size * (size - 1))
            // Rank 0's values, plus rank 1's, …: the same order on every rank.
            let out = flat + start
            out.update(from: gathered, count: n)
            for r in 1..<size {
                let part = gathered + r * n
                for i in 0..<n { out[i] += part[i] }
            }
            start += n
        }
        o = 0
        for b in buffers where b.count > 0 { b.baseAddress!.update(from: flat + o, count: b.count); o += b.count }
    }

    /// Every rank must reduce buffers of the same length; a mismatch is a bug or mismatched inputs
    /// (different data files on different hosts), and summing would silently mix unrelated values.
    private func checkSameCount(_ n: Int, what: String) throws {
        let counts = try allgather(int64: Int64(n), what: what)
        if Set(counts).count > 1 {
            throw DistributedError.mismatch(what: what, detail: "element counts by rank: \(counts.map(String.init).joined(separator: ", "))")
        }
    }

    // MARK: - Gathers and broadcast

    /// One Int64 from every rank, in rank order.
    public func allgather(int64 value: Int64, what: String) throws -> [Int64] {
        guard size > 1 else { return [value] }
        var v = value
        var out = [Int64](repeating: 0, count: size)
        let rc = out.withUnsafeMutableBufferPointer { dst in
            MPI_Allgather(&v, 1, cmpi_int64(), dst.baseAddress!, 1, cmpi_int64(), cmpi_comm_world())
        }
        try check(rc, "MPI_Allgather", what: what)
        count(sent: 8, received: 8 * (size - 1))
        return out
    }

    /// Every rank's bytes (any length, possibly empty), in rank order, on every rank.
    public func allgather(bytes: [UInt8], what: String) throws -> [[UInt8]] {
        guard size > 1 else { return [bytes] }
        let lengths = try allgather(int64: Int64(bytes.count), what: what)
        let total = lengths.reduce(0, +)
        guard total <= Int64(Int32.max) else {
            throw DistributedError.tooLarge(what: what, bytes: Int(total))
        }
        var counts = lengths.map { Int32($0) }
        var displs = [Int32](repeating: 0, count: size)
        for r in 1..<size { displs[r] = displs[r - 1] + counts[r - 1] }
        var out = [UInt8](repeating: 0, count: max(Int(total), 1))
        let rc = bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                MPI_Allgatherv(src.baseAddress ?? UnsafePointer(dst.baseAddress!), Int32(bytes.count), cmpi_byte(),
                               dst.baseAddress!, &counts, &displs, cmpi_byte(), cmpi_comm_world())
            }
        }
        try check(rc, "MPI_Allgatherv", what: what)
        count(sent: bytes.count, received: Int(total) - bytes.count)
        return (0..<size).map { r in Array(out[Int(displs[r])..<Int(displs[r] + counts[r])]) }
    }

    /// Every rank's Doubles (any length), in rank order, on every rank; bit-exact.
    public func allgather(doubles: [Double], what: String) throws -> [[Double]] {
        let bytes = doubles.withUnsafeBytes { Array($0) }
        return try allgather(bytes: bytes, what: what).map { b in
            b.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
    }

    /// Every rank's value (JSON-encoded on the way), in rank order, on every rank.
    public func allgather<T: Codable>(_ value: T, what: String) throws -> [T] {
        guard size > 1 else { return [value] }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let parts = try allgather(bytes: Array(try enc.encode(value)), what: what)
        let dec = JSONDecoder()
        return try parts.map { try dec.decode(T.self, from: Data($0)) }
    }

    /// Rank `root`'s bytes on every rank.
    public func broadcast(bytes: [UInt8], root: Int = 0, what: String) throws -> [UInt8] {
        guard size > 1 else { return bytes }
        var n = Int64(bytes.count)
        try check(MPI_Bcast(&n, 1, cmpi_int64(), Int32(root), cmpi_comm_world()), "MPI_Bcast", what: what)
        guard n <= Int64(Int32.max) else { throw DistributedError.tooLarge(what: what, bytes: Int(n)) }
        var buf = rank == root ? bytes : [UInt8](repeating: 0, count: Int(n))
        if buf.isEmpty { return [] }
        let rc = buf.withUnsafeMutableBufferPointer { MPI_Bcast($0.baseAddress!, Int32(n), cmpi_byte(), Int32(root), cmpi_comm_world()) }
        try check(rc, "MPI_Bcast", what: what)
        if rank == root { count(sent: Int(n), received: 0) } else { count(sent: 0, received: Int(n)) }
        return buf
    }

    /// Waits until every rank gets here.
    public func barrier(what: String) throws {
        guard size > 1 else { return }
        try check(MPI_Barrier(cmpi_comm_world()), "MPI_Barrier", what: what)
        collectives += 1
    }

    // MARK: - Ending

    /// Prints one line naming this rank and ends the whole job (every rank) with `code`.
    /// Without mpirun it prints the message and exits.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
        if usesMPI && !finalized { MPI_Abort(cmpi_comm_world(), code) }
        exit(code)
    }

    /// "langneuron: rank r of N (host): " under mpirun with several ranks, "langneuron: " otherwise.
    public var prefix: String { isParallel ? "langneuron: rank \(rank) of \(size) (\(host)): " : "langneuron: " }

    /// Ends MPI on a normal exit (after the last collective of every rank).
    public func finalize() {
        guard usesMPI && !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    private func count(sent: Int, received: Int) {
        bytesSent += sent
        bytesReceived += received
        collectives += 1
    }

    private func check(_ rc: Int32, _ call: String, what: String) throws {
        guard rc != MPI_SUCCESS else { return }
        var len: Int32 = 0
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        MPI_Error_string(rc, &text, &len)
        throw DistributedError.lostRank(call: call, what: what, mpiError: String(cString: text))
    }
}
