import Synchronization

/// A saturating reference count (the kernel's `refcount_t`).
///
/// As in `include/linux/refcount.h`, each operation is one atomic
/// read-modify-write, and the old value is checked afterwards: an increment
/// that finds the count at the ceiling, or a decrement that finds it at zero,
/// stores the saturation value, which then sticks. A saturated object leaks
/// instead of being freed twice, and a decrement of zero reports
/// `.underflow` so the checker records a REF violation instead of the process
/// crashing.
public struct RefCount: ~Copyable {
    public static let saturated: UInt32 = 0xC000_0000

    public enum PutResult: Equatable, Sendable {
        /// Other references remain.
        case remaining
        /// This put dropped the last reference: the caller frees.
        case last
        /// The count was already zero (now saturated): a bug in the caller.
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

    /// Drops a reference. Releasing, and acquiring for the last one: every
    /// use of the object by any holder happens before the free done by
    /// whoever sees `.last`.
    @inline(__always)
    public func put() -> PutResult {
        let old = count.wrappingSubtract(1, ordering: .releasing).oldValue
        if old == 1 {
            atomicMemoryFence(ordering: .acquiring)
            return .last
        }
        if old == 0 || old > Self.saturated {
            count.store(Self.saturated, ordering: .relaxed)
            return old == 0 ? .underflow : .remaining
        }
        if old == Self.saturated { count.store(Self.saturated, ordering: .relaxed) }
        return .remaining
    }

    public func set(_ value: UInt32) { count.store(value, ordering: .relaxed) }
    public var value: UInt32 { count.load(ordering: .relaxed) }
}
