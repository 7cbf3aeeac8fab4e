import ArgumentParser
import Distributed
import Foundation
import Kernels

/// What every rank does first under mpirun: share the host's cores among the ranks on it
/// (OpenBLAS and worker threads), and let rank 0 say how the job is laid out.
enum MPISetup {
    /// Threads for worker pools (PLND): cores per local rank under mpirun, all processors otherwise.
    static var workerThreads: Int {
        let w = Communicator.world
        return w.usesMPI ? w.threadsPerRank : ProcessInfo.processInfo.activeProcessorCount
    }

    /// The commands that split their work among ranks.
    static func splitsWork(_ command: ParsableCommand) -> Bool {
        command is TrainCommand || command is DetectCommand || command is EvalCommand || command is ExperimentCommand
    }

    /// Rank 0's share of the traffic, from the communicator's counters.
    static func finish(_ world: Communicator) {
        guard world.isParallel else { return }
        printError(String(format: "mpi: rank 0 sent %.3f MB and received %.3f MB in %d collectives",
                          Double(world.bytesSent) / 1e6, Double(world.bytesReceived) / 1e6, world.collectives))
    }

    static func start(_ world: Communicator) throws {
        BLAS.setThreads(world.threadsPerRank)
        let me = "\(world.host)\t\(world.localSize)\t\(world.threadsPerRank)"
        let all = try world.allgather(bytes: Array(me.utf8), what: "the host names")
        guard world.isRoot else { return }
        var hosts = [String]()
        var detail = [String: String]()
        for b in all {
            let f = String(decoding: b, as: UTF8.self).split(separator: "\t").map(String.init)
            guard f.count == 3 else { continue }
            if detail[f[0]] == nil { hosts.append(f[0]) }
            detail[f[0]] = "\(f[0]): \(f[1]) rank\(f[1] == "1" ? "" : "s") × \(f[2]) thread\(f[2] == "1" ? "" : "s")"
        }
        printError("mpi: \(world.size) rank\(world.size == 1 ? "" : "s") on \(hosts.count) host\(hosts.count == 1 ? "" : "s") "
                   + "(\(hosts.compactMap { detail[$0] }.joined(separator: "; "))), OpenBLAS and worker threads per rank = cores / ranks on the host")
    }
}
