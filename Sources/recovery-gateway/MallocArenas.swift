import Foundation

#if canImport(Glibc)
import CMalloc
#endif

/// The number of glibc malloc arenas of the daemon.
enum MallocArenas {
    /// Caps glibc's malloc arenas at one per core (at least two) unless `MALLOC_ARENA_MAX` is set.
    ///
    /// glibc gives each thread that allocates while the others hold theirs an arena of its own, up
    /// to eight per core; the gateway's threads (Swift's cooperative pool, NIO's event loops,
    /// GRDB's queues, the SMTP connections) each left one with pages in use: 4 MB of its idle
    /// resident memory. Allocation is not what limits the gateway, so a few arenas do.
    static func limit() {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }
}
