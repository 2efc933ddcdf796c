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

    // MARK: vm_refcnt (Linux 6.15+): a count with a writer bit

    /// What `getUnlessZeroLimited` saw.
    public enum LimitedGet: Equatable, Sendable {
        case taken
        /// The count was 0: detached or free.
        case zero
        /// Taking it would pass `limit`: a writer's bit is set.
        case overLimit
    }

    /// __refcount_inc_not_zero_limited_acquire: adds a reference unless the
    /// count is 0 or would pass `limit`. acquiring: what the reader then
    /// reads (vm_mm, vm_lock_seq, the range) is not read before the count.
    @inline(__always)
    public func getUnlessZeroLimited(_ limit: UInt32) -> LimitedGet {
        var cur = count.load(ordering: .relaxed)
        while true {
            if cur == 0 { return .zero }
            if cur >= limit { return .overLimit }
            let (done, seen) = count.compareExchange(expected: cur, desired: cur + 1, ordering: .acquiring)
            if done { return .taken }
            cur = seen
        }
    }

    /// __refcount_dec_and_test with the old value back (releasing, like `put`).
    @inline(__always)
    public func decrement() -> UInt32 {
        let old = count.wrappingSubtract(1, ordering: .releasing).oldValue
        if old == 1 { atomicMemoryFence(ordering: .acquiring) }
        return old
    }

    /// refcount_add_not_zero: adds `n` unless the count is 0; false then.
    public func addUnlessZero(_ n: UInt32) -> Bool {
        var cur = count.load(ordering: .relaxed)
        while cur != 0 {
            let (done, seen) = count.compareExchange(expected: cur, desired: cur + n, ordering: .acquiringAndReleasing)
            if done { return true }
            cur = seen
        }
        return false
    }

    /// refcount_sub_and_test: subtracts `n`; true when that left 0.
    public func subtract(_ n: UInt32) -> Bool {
        count.wrappingSubtract(n, ordering: .acquiringAndReleasing).oldValue == n
    }

    /// refcount_set_release: the stores before it are seen by whoever takes a reference on the new value.
    public func setReleasing(_ value: UInt32) { count.store(value, ordering: .releasing) }
    /// An acquiring read (the writer's wait for readers to drain).
    public var acquiredValue: UInt32 { count.load(ordering: .acquiring) }

    public func set(_ value: UInt32) { count.store(value, ordering: .relaxed) }
    public var value: UInt32 { count.load(ordering: .relaxed) }
}
