import Synchronization

/// A saturating reference count (the kernel's `refcount_t`).
///
/// It never wraps: an increment at the ceiling sticks there, and a decrement
/// of zero leaves it at zero and reports `.underflow` so the checker can
/// record a REF violation instead of the process crashing.
public struct RefCount: ~Copyable {
    public static let saturated: UInt32 = 0xC000_0000

    public enum PutResult: Equatable, Sendable {
        /// Other references remain.
        case remaining
        /// This put dropped the last reference: the caller frees.
        case last
        /// The count was already zero: a bug in the caller.
        case underflow
    }

    private let count: Atomic<UInt32>

    public init(_ initial: UInt32 = 1) { count = Atomic(initial) }

    /// Adds a reference (relaxed: taking a reference needs no ordering, the
    /// caller already holds something that keeps the object alive).
    @inline(__always)
    public func get() {
        let old = count.wrappingAdd(1, ordering: .relaxed).oldValue
        if old >= Self.saturated { count.store(Self.saturated, ordering: .relaxed) }
    }

    /// Adds a reference unless the count is zero (the object is being freed).
    @inline(__always)
    public func getUnlessZero() -> Bool {
        var cur = count.load(ordering: .relaxed)
        while cur != 0 {
            if cur >= Self.saturated { return true }
            let (done, seen) = count.compareExchange(expected: cur, desired: cur + 1, ordering: .relaxed)
            if done { return true }
            cur = seen
        }
        return false
    }

    /// Drops a reference. acquiringAndReleasing: every use of the object by
    /// this holder happens before the free done by whoever sees `.last`.
    @inline(__always)
    public func put() -> PutResult {
        var cur = count.load(ordering: .relaxed)
        while true {
            if cur == 0 { return .underflow }
            if cur >= Self.saturated { return .remaining }
            let (done, seen) = count.compareExchange(
                expected: cur, desired: cur - 1, ordering: .acquiringAndReleasing)
            if done { return cur == 1 ? .last : .remaining }
            cur = seen
        }
    }

    public func set(_ value: UInt32) { count.store(value, ordering: .relaxed) }
    public var value: UInt32 { count.load(ordering: .relaxed) }
}
