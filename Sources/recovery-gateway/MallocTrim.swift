import Foundation

#if canImport(Glibc)
import CMalloc
#endif

/// Gives the free pages of glibc's heaps back to the system once the daemon goes quiet.
///
/// After a burst, glibc keeps the pages of freed memory: `free` returns only the top of a heap, and
/// the pages in between stay resident until `malloc_trim`. Measured on the release build after a
/// warm-up of 64 requests: 2 MB of the idle resident memory (benchmarks/rss.sh). Trimming while
/// busy would only hand back pages the next requests fault in again, so it waits for a quiet second.
enum MallocTrim {
    /// Checks once per `interval` how much CPU time the process used meanwhile, and trims once
    /// after each busy stretch, when an interval used less than a hundredth of it. Returns when cancelled.
    static func whenQuiet(every interval: Duration = .seconds(1)) async {
        #if canImport(Glibc)
        var policy = QuietTrimPolicy(interval: interval, cpu: processCPUTime())
        while (try? await Task.sleep(for: interval)) != nil {
            if policy.shouldTrim(cpu: processCPUTime()) { _ = malloc_trim(0) }
        }
        #endif
    }

    #if canImport(Glibc)
    /// The user and system CPU time the process has used so far.
    private static func processCPUTime() -> Duration {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let micros =
            (Int64(usage.ru_utime.tv_sec) + Int64(usage.ru_stime.tv_sec)) * 1_000_000
            + Int64(usage.ru_utime.tv_usec) + Int64(usage.ru_stime.tv_usec)
        return .microseconds(micros)
    }
    #endif
}

/// When to trim: once per quiet stretch, the first interval that used less than a hundredth of
/// its length in CPU time after one that used more (or after start-up).
struct QuietTrimPolicy {
    private let quietCPU: Duration
    private var lastCPU: Duration
    private var trimmedSinceBusy = false

    init(interval: Duration, cpu: Duration) {
        quietCPU = interval / 100
        lastCPU = cpu
    }

    /// Whether to trim now, given the process's CPU time so far.
    mutating func shouldTrim(cpu: Duration) -> Bool {
        defer { lastCPU = cpu }
        guard cpu - lastCPU < quietCPU else {
            trimmedSinceBusy = false
            return false
        }
        guard !trimmedSinceBusy else { return false }
        trimmedSinceBusy = true
        return true
    }
}
