import XCTest
@testable import Distributed

/// The single-rank communicator (what every plain `langneuron` run uses) and the block split.
/// Several ranks are tested through mpirun in scripts/mpi-test.sh.
final class CommunicatorTests: XCTestCase {
    func testShareCoversEveryIndexOnceInRankOrder() {
        for count in [0, 1, 2, 5, 7, 32, 33] {
            for size in 1...5 {
                let blocks = (0..<size).map { Communicator.share(of: count, rank: $0, size: size) }
                XCTAssertEqual(blocks.flatMap { Array($0) }, Array(0..<count), "count \(count) size \(size)")
                let lengths = blocks.map(\.count)
                XCTAssertLessThanOrEqual(lengths.max()! - lengths.min()!, 1, "balanced: count \(count) size \(size)")
            }
        }
    }

    func testWithoutMPIRunIsOneRankThatLeavesDataAlone() throws {
        let c = Communicator(environment: [:])
        XCTAssertFalse(c.usesMPI)
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.size, 1)
        XCTAssertTrue(c.isRoot)
        var v: [Float] = [1.5, -2, 3e-8]
        try v.withUnsafeMutableBufferPointer { try c.sumInRankOrder([$0], what: "test") }
        XCTAssertEqual(v, [1.5, -2, 3e-8]) // exact: one rank's sum is its own buffer
        XCTAssertEqual(try c.sumInRankOrder([0.25, 7], what: "test"), [0.25, 7])
        XCTAssertEqual(try c.allgather(bytes: [1, 2, 3], what: "test"), [[1, 2, 3]])
        XCTAssertEqual(try c.allgather(doubles: [.pi], what: "test"), [[.pi]])
        XCTAssertEqual(try c.allgather(["a", "b"], what: "test"), [["a", "b"]])
        XCTAssertEqual(try c.broadcast(bytes: [9], what: "test"), [9])
        XCTAssertTrue(try c.any(true, what: "test"))
        XCTAssertFalse(try c.any(false, what: "test"))
        XCTAssertEqual(c.bytesSent + c.bytesReceived, 0, "one rank sends nothing")
        XCTAssertEqual(c.prefix, "langneuron: ")
    }

    func testCPUListsCount() {
        XCTAssertEqual(Communicator.allowedCores(list: "0"), 1)
        XCTAssertEqual(Communicator.allowedCores(list: " 0-3,6\t"), 5)
        XCTAssertEqual(Communicator.allowedCores(list: "0,2,4-5"), 4)
        XCTAssertNil(Communicator.allowedCores(list: ""))
        XCTAssertNil(Communicator.allowedCores(list: "3-1"))
        XCTAssertNil(Communicator.allowedCores(list: "x"))
    }

    func testWorldWithoutMPIRunIsSingle() {
        // XCTest is not started by mpirun, so `world` must not have initialised MPI.
        if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil {
            XCTAssertFalse(Communicator.world.usesMPI)
            XCTAssertEqual(Communicator.world.size, 1)
        }
    }
}
