import CSupport
import Glibc

/// Time sources: CLOCK_MONOTONIC for wall intervals (about 22 ns a read here),
/// the TSC for sampled operation latency (about 10 ns; invariant on this machine).
public enum Clock {
    @inline(__always)
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @inline(__always)
    public static func ticks() -> UInt64 { vms_rdtsc() }

    /// Nanoseconds per TSC tick, measured against CLOCK_MONOTONIC over `millis`.
    public static func calibrateTicks(millis: UInt32 = 20) -> Double {
        let n0 = nanos(), t0 = ticks()
        usleep(millis * 1000)
        let n1 = nanos(), t1 = ticks()
        guard t1 > t0 else { return 1 }
        return Double(n1 - n0) / Double(t1 - t0)
    }

    /// Sleeps in slices of at most 10 ms until `deadline` or until `stop()` is true.
    /// Returns false when `stop()` ended the wait.
    public static func sleep(until deadline: UInt64, unless stop: () -> Bool) -> Bool {
        while true {
            if stop() { return false }
            let now = nanos()
            if now >= deadline { return true }
            usleep(UInt32(min(deadline - now, 10_000_000) / 1000))
        }
    }
}
