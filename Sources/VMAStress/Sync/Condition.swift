import Glibc

/// A pthread mutex and condition variable, for threads that sleep until told
/// (grace-period workers). Not for hot paths.
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits, with the lock held, until `ready()` is true or `timeoutNanos` pass. Returns `ready()`.
    public func wait(timeoutNanos: UInt64 = 50_000_000, until ready: () -> Bool) -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let total = UInt64(ts.tv_nsec) + timeoutNanos
        ts.tv_sec += Int(total / 1_000_000_000)
        ts.tv_nsec = Int(total % 1_000_000_000)
        while !ready() {
            if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT { return ready() }
        }
        return true
    }

    /// Wakes every waiter; call with the lock held.
    public func broadcast() { pthread_cond_broadcast(cond) }
}
