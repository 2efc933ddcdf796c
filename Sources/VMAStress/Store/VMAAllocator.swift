import Glibc
import Synchronization

/// The slab that VMA records live in: manually managed, 64-byte aligned slots,
/// each a cache-line header followed by the `VMA`.
///
/// Swift does not promise field order, so the `struct rcu_head` that
/// liburcu's `call_rcu` needs sits at a fixed offset ahead of the record
/// instead of inside it: the header's first 16 bytes (the shims assert the
/// size), then the deferred-free bookkeeping (`DeferredFree.Header`).
/// `header(of:)` and `vma(fromHeader:)` convert.
///
/// Freed records are poisoned and queued at the tail of a FIFO free list
/// (`SlotRing`): the free list is the quarantine, and a record is reused
/// only after every record freed before it and once `quarantine` more wait
/// behind it, so a reader that kept using a freed VMA most likely sees the
/// poison (or, later, a different id). Records are written first when first
/// handed out, so the slab's resident memory follows the live VMAs and the
/// quarantine, not its capacity. The slab is returned to the system only by
/// `destroy()`, so a use-after-free reads poison instead of faulting.
///
/// In type-safe mode (`SLAB_TYPESAFE_BY_RCU`, `per-vma-refcount`) a freed
/// record goes to the head of the ring and is handed out again at once, to
/// any mm sharing the slab; it is not poisoned (a lockless reader may still
/// read it), its count is 0 and stays 0 until the new owner attaches it. The
/// slab's memory is type-stable for the whole run.
public struct VMAAllocator: @unchecked Sendable {
    static let headerBytes = 64
    static let slotStride = headerBytes + (MemoryLayout<VMA>.stride + 63) / 64 * 64
    /// Freed records waiting behind one before it is reused: 4 MiB of records,
    /// and at a hundred thousand frees a second, tens of milliseconds.
    static let quarantine = 16_384

    struct State: ~Copyable {
        let lock = SpinLock()
        var ring: SlotRing
        let allocs = Atomic<UInt64>(0)
        let frees = Atomic<UInt64>(0)
        let nextID = Atomic<UInt64>(1)
        var typeSafe = false
    }

    public let capacity: Int
    let memory: MemoryPolicy
    let slab: UnsafeMutableRawPointer
    let state: UnsafeMutablePointer<State>

    public init(capacity: Int, memory: MemoryPolicy = .system) {
        self.capacity = capacity
        self.memory = memory
        slab = NodeMemory.allocate(bytes: capacity * Self.slotStride, policy: memory)
        state = .allocate(capacity: 1)
        state.initialize(to: State(ring: SlotRing(capacity: capacity, quarantine: Self.quarantine)))
    }

    /// Type-safe mode, set once by the strategy before any record is allocated.
    public func setTypeSafe() { state.pointee.typeSafe = true }
    public var isTypeSafe: Bool { state.pointee.typeSafe }

    /// A fresh record of the mm `owner`, detached, with refs = 1 (the tree's
    /// reference, taken on insert); 0 in type-safe mode, until attached. nil when full.
    public func allocate(_ range: PageRange, prot: Prot, flags: UInt32, gen: UInt64, owner: UInt64) -> VMAPtr? {
        state.pointee.lock.lock()
        let taken = state.pointee.ring.take(reuseFirst: state.pointee.typeSafe)
        state.pointee.lock.unlock()
        guard let taken else { return nil }

        let v = vma(slot: taken.slot)
        if taken.fresh {
            (slab + taken.slot * Self.slotStride + Self.headerBytes).bindMemory(to: VMA.self, capacity: 1)
                .initialize(to: VMA())
        }
        let id = state.pointee.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        v.pointee.id.store(id, ordering: .relaxed)
        v.setStart(range.start)
        v.setEnd(range.end)
        v.setProt(prot)
        v.pointee.flags.store(flags, ordering: .relaxed)
        v.setGen(gen)
        v.pointee.owner.store(owner, ordering: .relaxed)
        v.setAttached(false)
        v.pointee.refs.set(state.pointee.typeSafe ? 0 : 1)
        v.pointee.writeDepth.store(0, ordering: .relaxed)
        v.pointee.lockSeq.store(VMA.unlockedSeq, ordering: .relaxed)
        v.pointee.pipe.store(0, ordering: .relaxed)
        v.pointee.rbLeft.store(nil, ordering: .relaxed)
        v.pointee.rbRight.store(nil, ordering: .relaxed)
        v.pointee.rbParent.store(nil, ordering: .relaxed)
        v.resealChecksum()
        // releasing: the fields above are visible to whoever sees the live tag.
        v.pointee.tag.store(VMA.liveTag(id), ordering: .releasing)
        state.pointee.allocs.wrappingAdd(1, ordering: .relaxed)
        return v
    }

    /// Poisons the record and queues it at the tail of the free list. The
    /// pipe stage stays, so a late reader can still tell how old it was.
    public func free(_ v: VMAPtr) {
        let slot = (UnsafeMutableRawPointer(v) - Self.headerBytes - slab) / Self.slotStride
        if state.pointee.typeSafe {
            // The fields stay what they were, as in a slab object; only the tag says it is free.
            v.pointee.tag.store(VMA.typeSafeFree, ordering: .relaxed)
            state.pointee.lock.lock()
            state.pointee.ring.putFront(slot)
            state.pointee.lock.unlock()
            state.pointee.frees.wrappingAdd(1, ordering: .relaxed)
            return
        }
        v.pointee.tag.store(VMA.poison, ordering: .relaxed)
        v.setStart(VMA.poison)
        v.setEnd(VMA.poison)
        v.setGen(VMA.poison >> 2)
        v.setAttached(false)
        v.pointee.checksum.store(VMA.poison, ordering: .relaxed)
        state.pointee.lock.lock()
        state.pointee.ring.putBack(slot)
        state.pointee.lock.unlock()
        state.pointee.frees.wrappingAdd(1, ordering: .relaxed)
    }

    /// Free records (a racy snapshot unless the caller excludes other allocators).
    public var available: Int {
        state.pointee.lock.lock()
        defer { state.pointee.lock.unlock() }
        return state.pointee.ring.available
    }

    public var allocations: UInt64 { state.pointee.allocs.load(ordering: .relaxed) }
    public var frees: UInt64 { state.pointee.frees.load(ordering: .relaxed) }
    public var bytesPerRecord: Int { Self.slotStride }
    /// The slab's memory, for residency queries.
    public var region: (UnsafeRawPointer, Int) { (UnsafeRawPointer(slab), capacity * Self.slotStride) }

    func vma(slot: Int) -> VMAPtr {
        (slab + slot * Self.slotStride + Self.headerBytes).assumingMemoryBound(to: VMA.self)
    }

    /// Whether `p` points at a record slot of this slab.
    public func owns(_ p: VMAPtr) -> Bool {
        let off = UnsafeMutableRawPointer(p) - slab - Self.headerBytes
        return off >= 0 && off < state.pointee.ring.fresh * Self.slotStride && off % Self.slotStride == 0
    }

    /// The record's header: its rcu_head, then deferred-free bookkeeping.
    public static func header(of v: VMAPtr) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(v) - headerBytes
    }

    public static func vma(fromHeader h: UnsafeMutableRawPointer) -> VMAPtr {
        (h + headerBytes).assumingMemoryBound(to: VMA.self)
    }

    public func destroy() {
        for i in 0..<state.pointee.ring.fresh { _ = vma(slot: i).deinitialize(count: 1) }
        NodeMemory.free(slab, bytes: capacity * Self.slotStride, policy: memory)
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
