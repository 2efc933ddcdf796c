import Synchronization

/// The mm_struct cache: the part of an address space that a reader of
/// another process can reach through a reused VMA's `vm_mm`: the mm's
/// identity, `mm_count` (`mmgrab` / `mmdrop`) and its writer wait queue
/// (`mm->vma_writer_wait`, which `vma_refcount_put` wakes).
///
/// An mm is named by an identity word, slot in the low half and the
/// slot's generation in the high half: `vm_mm == mm` compares slots (a
/// pointer), REUSE compares the whole word. Slots are manually managed and
/// stay for the run: a destroyed mm's slot is poisoned and queued at the tail
/// of a FIFO free ring, so a late reader that touches it sees the poison (a
/// use-after-free of the mm) rather than another mm's wait queue.
public struct MMCache: @unchecked Sendable {
    struct Slot: ~Copyable {
        /// The identity while the mm lives, `MMCache.poison` once destroyed.
        let tag = Atomic<UInt64>(MMCache.poison)
        /// mm_count: the mm itself holds one until it is destroyed.
        let count = Atomic<UInt32>(0)
        let generation = Atomic<UInt32>(0)
        /// rcuwait_wake_up(&mm->vma_writer_wait) calls.
        let writerWakeups = Atomic<UInt64>(0)
        /// exit_mmap has run: only references others hold keep it alive.
        let exited = Atomic<Bool>(false)
    }

    struct State: ~Copyable {
        let lock = SpinLock()
        /// Every destroyed slot waits behind all destroyed before it.
        var ring: SlotRing
        let destroyed = Atomic<UInt64>(0)
    }

    public static let poison: UInt64 = 0x6D6D_6D6D_6D6D_6D6D
    public let capacity: Int
    let slots: UnsafeMutablePointer<Slot>
    let state: UnsafeMutablePointer<State>

    public init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        for i in 0..<capacity { (slots + i).initialize(to: Slot()) }
        state = .allocate(capacity: 1)
        state.initialize(to: State(ring: SlotRing(capacity: capacity, quarantine: Int.max)))
    }

    @inline(__always) static func slot(of identity: UInt64) -> Int { Int(identity & 0xFFFF_FFFF) }

    /// mm_alloc: a new identity with mm_count 1, or nil when every slot is in use.
    public func allocate() -> UInt64? {
        state.pointee.lock.lock()
        let taken = state.pointee.ring.take()
        state.pointee.lock.unlock()
        guard let i = taken?.slot else { return nil }
        let gen = slots[i].generation.wrappingAdd(1, ordering: .relaxed).newValue
        let identity = UInt64(gen) << 32 | UInt64(i)
        slots[i].count.store(1, ordering: .relaxed)
        slots[i].exited.store(false, ordering: .relaxed)
        slots[i].tag.store(identity, ordering: .releasing)
        return identity
    }

    /// Slots free for a new mm (never used, or destroyed).
    public var available: Int {
        state.pointee.lock.lock()
        defer { state.pointee.lock.unlock() }
        return state.pointee.ring.available
    }

    /// The process exits: exit_mmap is done and the mm drops its own mm_count.
    public func exit(_ identity: UInt64) {
        slots[Self.slot(of: identity)].exited.store(true, ordering: .relaxed)
        drop(identity)
    }

    /// Every mm alive now: its identity, mm_count and whether it has exited.
    public func live() -> [(identity: UInt64, count: UInt32, exited: Bool)] {
        (0..<capacity).compactMap { i in
            let tag = slots[i].tag.load(ordering: .acquiring)
            guard tag != Self.poison else { return nil }
            return (tag, slots[i].count.load(ordering: .relaxed), slots[i].exited.load(ordering: .relaxed))
        }
    }

    /// Whether the mm named `identity` still lives (its slot is not poisoned nor another mm's).
    @inline(__always)
    public func isLive(_ identity: UInt64) -> Bool {
        slots[Self.slot(of: identity)].tag.load(ordering: .acquiring) == identity
    }

    /// mmgrab: the caller holds something that keeps the mm alive (a reference on one of its VMAs).
    public func grab(_ identity: UInt64) {
        slots[Self.slot(of: identity)].count.wrappingAdd(1, ordering: .relaxed)
    }

    /// mmdrop: the last drop destroys the mm (poisons its slot and frees it).
    public func drop(_ identity: UInt64) {
        let i = Self.slot(of: identity)
        guard slots[i].count.wrappingSubtract(1, ordering: .acquiringAndReleasing).oldValue == 1 else { return }
        slots[i].tag.store(Self.poison, ordering: .releasing)
        state.pointee.destroyed.wrappingAdd(1, ordering: .relaxed)
        state.pointee.lock.lock()
        state.pointee.ring.putBack(i)
        state.pointee.lock.unlock()
    }

    /// rcuwait_wake_up(&mm->vma_writer_wait) on the mm named `identity`:
    /// false, touching nothing, when that mm was destroyed (the caller
    /// reports the use after free it would have been).
    @inline(__always)
    public func wakeWriter(_ identity: UInt64) -> Bool {
        guard isLive(identity) else { return false }
        slots[Self.slot(of: identity)].writerWakeups.wrappingAdd(1, ordering: .relaxed)
        return true
    }

    /// "slot S generation G", for reports.
    public static func describe(_ identity: UInt64) -> String { "slot \(slot(of: identity)) generation \(identity >> 32)" }

    public var destroyedCount: UInt64 { state.pointee.destroyed.load(ordering: .relaxed) }
    /// Writer wake-ups by vma_refcount_put, over every mm.
    public var writerWakeups: UInt64 {
        (0..<capacity).reduce(0) { $0 + slots[$1].writerWakeups.load(ordering: .relaxed) }
    }

    public func destroy() {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
