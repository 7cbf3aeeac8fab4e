import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C / SIGTERM turn into a flag the training loop checks between steps, so that it can
/// save its state and stop cleanly instead of dying mid-write.
public enum Interrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    public static var requested: Bool { flag != 0 }

    /// Installs handlers for SIGINT and SIGTERM. A second signal kills the process as usual.
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            if Interrupt.flag != 0 { signal(sig, SIG_DFL); raise(sig) }
            Interrupt.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    /// For tests: request a stop as if a signal had arrived.
    public static func request() { flag = 1 }
    public static func reset() { flag = 0 }
}
