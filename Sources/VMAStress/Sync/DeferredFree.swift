import Histogram
import Synchronization

/// Frees objects after a grace period, through liburcu's call_rcu or SRCU's
/// call_srcu, and keeps the books: callbacks pending (count and bytes, their
/// maximum and their mean at each retire) and grace-period latency (retire
/// to callback, a histogram).
///
/// Objects carry a header (at least `Header.size` bytes, 8-byte aligned):
/// the `struct rcu_head` first, then the owner, the retire time and the size.
/// `onGracePeriod` sees each object just before it is reclaimed (the VMA
/// strategies stamp the reader-pipe stage there).
public final class DeferredFree: @unchecked Sendable {
    /// Where the grace periods come from.
    public enum Source: Sendable {
        case rcu(RCUFlavorKind)
        case srcu(SRCU)
    }

    /// Byte offsets in an object's header.
    public enum Header {
        static let owner = 16
        static let retiredAt = 24
        static let bytes = 32
        public static let size = 40
    }

    public let source: Source
    private let onGracePeriod: (@Sendable (UnsafeMutableRawPointer) -> Void)?
    private let reclaim: @Sendable (UnsafeMutableRawPointer) -> Void
    private let pending = Atomic<Int>(0)
    private let pendingBytes = Atomic<Int>(0)
    private let maxPending = Atomic<Int>(0)
    private let maxPendingBytes = Atomic<Int>(0)
    private let retires = Atomic<UInt64>(0)
    private let pendingSum = Atomic<UInt64>(0)
    private let latency = Mutex(Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000_000,
                                                  numberOfSignificantValueDigits: .three))

    /// `onGracePeriod(header)`, then `reclaim(header)`, run after the grace
    /// period, on the callback thread.
    public init(source: Source, onGracePeriod: (@Sendable (UnsafeMutableRawPointer) -> Void)? = nil,
                reclaim: @escaping @Sendable (UnsafeMutableRawPointer) -> Void) {
        self.source = source
        self.onGracePeriod = onGracePeriod
        self.reclaim = reclaim
    }

    /// Queues the object whose header is `header` (`bytes` long) for reclaim after a grace period.
    public func retire(_ header: UnsafeMutableRawPointer, bytes: Int) {
        header.storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()), toByteOffset: Header.owner,
                          as: UnsafeRawPointer.self)
        header.storeBytes(of: Clock.nanos(), toByteOffset: Header.retiredAt, as: UInt64.self)
        header.storeBytes(of: bytes, toByteOffset: Header.bytes, as: Int.self)
        let n = pending.wrappingAdd(1, ordering: .relaxed).newValue
        let b = pendingBytes.wrappingAdd(bytes, ordering: .relaxed).newValue
        raise(maxPending, to: n)
        raise(maxPendingBytes, to: b)
        retires.wrappingAdd(1, ordering: .relaxed)
        pendingSum.wrappingAdd(UInt64(n), ordering: .relaxed)
        switch source {
        case let .rcu(kind): kind.flavor.call(header, deferredFreeCallback)
        case let .srcu(domain): domain.call(header, deferredFreeCallback)
        }
    }

    /// Waits until every object retired so far has been reclaimed; at once
    /// when none is pending (another queue's barrier on the same grace
    /// periods may have run them).
    public func barrier() {
        // acquiring: pairs with the releasing decrement after each reclaim.
        if pending.load(ordering: .acquiring) == 0 { return }
        switch source {
        case let .rcu(kind): kind.flavor.barrier()
        case let .srcu(domain): domain.barrier()
        }
    }

    fileprivate func complete(_ header: UnsafeMutableRawPointer) {
        onGracePeriod?(header)
        let retiredAt = header.load(fromByteOffset: Header.retiredAt, as: UInt64.self)
        let bytes = header.load(fromByteOffset: Header.bytes, as: Int.self)
        let waited = Clock.nanos() &- retiredAt
        latency.withLock { _ = $0.record(max(waited, 1)) }
        reclaim(header)
        pendingBytes.wrappingSubtract(bytes, ordering: .relaxed)
        pending.wrappingSubtract(1, ordering: .releasing)
    }

    private func raise(_ a: borrowing Atomic<Int>, to value: Int) {
        var cur = a.load(ordering: .relaxed)
        while value > cur {
            let (done, seen) = a.compareExchange(expected: cur, desired: value, ordering: .relaxed)
            if done { return }
            cur = seen
        }
    }

    public var stats: DeferredFreeStats {
        let n = retires.load(ordering: .relaxed)
        let h = latency.withLock { $0 }
        return DeferredFreeStats(
            retired: n, pending: pending.load(ordering: .relaxed), pendingBytes: pendingBytes.load(ordering: .relaxed),
            maxPending: maxPending.load(ordering: .relaxed), maxPendingBytes: maxPendingBytes.load(ordering: .relaxed),
            meanPending: n == 0 ? 0 : Double(pendingSum.load(ordering: .relaxed)) / Double(n),
            gracePeriodNs: LatencySummary(h))
    }
}

private func deferredFreeCallback(_ header: UnsafeMutableRawPointer?) {
    let h = header!
    let owner = h.load(fromByteOffset: DeferredFree.Header.owner, as: UnsafeRawPointer.self)
    Unmanaged<DeferredFree>.fromOpaque(owner).takeUnretainedValue().complete(h)
}

/// The deferred-free books at one moment.
public struct DeferredFreeStats: Codable, Sendable {
    public var retired: UInt64
    public var pending: Int
    public var pendingBytes: Int
    public var maxPending: Int
    public var maxPendingBytes: Int
    /// Mean backlog seen by each retire (including itself).
    public var meanPending: Double
    public var gracePeriodNs: LatencySummary

    /// The books of several mms' strategies (`--mms`) as one: counts added,
    /// backlogs added (their peaks too: an upper bound), grace-period latency the first mm's.
    public static func sum(_ all: [DeferredFreeStats?]) -> DeferredFreeStats? {
        let present = all.compactMap { $0 }
        guard var total = present.first else { return nil }
        for s in present.dropFirst() {
            total.retired += s.retired
            total.pending += s.pending
            total.pendingBytes += s.pendingBytes
            total.maxPending += s.maxPending
            total.maxPendingBytes += s.maxPendingBytes
            total.meanPending += s.meanPending
        }
        return total
    }
}
