import Synchronization

/// The process address space (`mm_struct`): the ordered VMA list, the
/// lookup tree, the page tables, the VMA slab, `mmap_lock`, and the state
/// the lockless strategies add (mm seqlock, tree rwlock, `mm_lock_seq`).
/// A handle: copies share the same memory; `destroy()` once, after every
/// thread is done.
public struct MM: @unchecked Sendable {
    struct Shared: ~Copyable {
        let nextGen = Atomic<UInt64>(1)
        /// Saturating-refcount underflows seen by writers (REF evidence for the checker).
        let refUnderflows = Atomic<UInt64>(0)
        let lastUnderflowVMA = Atomic<UInt64>(0)
        /// The mm seqlock of the SPF patches: odd while a writer changes the tree.
        /// Writers are serialised by mmap_lock.
        let seq = SeqCount()
        /// `mm_lock_seq` (Linux 6.4): a VMA whose `lockSeq` equals it is write-locked.
        let lockSeq = Atomic<UInt64>(0)
        /// The tree rwlock of SPF v9 (`mm_rb_lock`).
        let treeLock = QRWLock()
        /// PTEs a mutation found where none may be: in the hole it maps (mmap,
        /// mremap's destination), or of a foreign generation in a VMA it moves
        /// or merges away (evidence for the checker).
        let clobberedPTEs = Atomic<UInt64>(0)
        let lastClobberedPage = Atomic<UInt64>(0)
        let auditHoles = Atomic<Bool>(true)
        /// The range the current mutation works on: start << 32 | pages.
        let hotRange = Atomic<UInt64>(0)
        /// What the mm's writer is doing, for the stall dump: a `WriterStep` and a VMA id.
        let writerStep = Atomic<UInt64>(0)
        /// PTEs take-all-locks saw change while it held every lock.
        let changedUnderAllLocks = Atomic<UInt64>(0)
        let lastChangedPage = Atomic<UInt64>(0)
    }

    /// Every page number the model knows: `[0, pages)`.
    public let space: PageRange
    public let mmapLock: RWSem
    /// The VMAs in address order, for writers and the checker (the role of
    /// the kernel's `vm_next` list): only mmap_lock holders read it.
    public let list: VMAList
    /// The tree faults look VMAs up in.
    public let index: VMATree
    public let pageTable: PageTable
    public let vmas: VMAAllocator
    /// The write side's delay points (`WritePoint`), on under `--check full`.
    public let writeDelays: WriteDelays
    let shared: UnsafeMutablePointer<Shared>

    public init(pages: UInt64, maxVMAs: Int, index kind: IndexKind = .rbtree, memory: MemoryPolicy = .system) {
        space = PageRange(0, pages)
        mmapLock = RWSem()
        list = VMAList(capacity: maxVMAs, memory: memory)
        index = VMATree(kind: kind, capacity: maxVMAs, memory: memory)
        pageTable = PageTable(pages: pages, memory: memory)
        vmas = VMAAllocator(capacity: maxVMAs, memory: memory)
        writeDelays = WriteDelays()
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared())
    }

    /// A generation no VMA has used.
    public func newGen() -> UInt64 { shared.pointee.nextGen.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// vma_put: drops a reference; the last one frees, at once (SPF v9's
    /// synchronous free, and the classic retire).
    @inline(__always)
    public func put(_ v: VMAPtr) {
        switch v.pointee.refs.put() {
        case .last: vmas.free(v)
        case .remaining: break
        case .underflow: noteRefUnderflow(v)
        }
    }

    /// Records a refcount underflow on `v` (a REF violation the checker reports).
    public func noteRefUnderflow(_ v: VMAPtr) {
        shared.pointee.lastUnderflowVMA.store(v.id, ordering: .relaxed)
        shared.pointee.refUnderflows.wrappingAdd(1, ordering: .relaxed)
    }

    /// The mm seqlock (`mm->mm_seq`): readers retry while it moves.
    @inline(__always) public func seqReadBegin() -> UInt32 { shared.pointee.seq.readBegin() }
    @inline(__always) public func seqReadRetry(_ s: UInt32) -> Bool { shared.pointee.seq.readRetry(s) }
    public func seqWriteBegin() { shared.pointee.seq.writeBegin() }
    public func seqWriteEnd() { shared.pointee.seq.writeEnd() }

    /// The tree rwlock (`mm->mm_rb_lock`).
    @inline(__always) public func treeReadLock() { shared.pointee.treeLock.readLock() }
    @inline(__always) public func treeReadUnlock() { shared.pointee.treeLock.readUnlock() }
    public func treeWriteLock() { shared.pointee.treeLock.writeLock() }
    public func treeWriteUnlock() { shared.pointee.treeLock.writeUnlock() }

    /// `mm_lock_seq`. acquiring: pairs with the releasing bump that ends a write section.
    @inline(__always) public var lockSeq: UInt64 { shared.pointee.lockSeq.load(ordering: .acquiring) }
    /// vma_end_write_all: every VMA write lock taken under this mmap_lock hold is released at once.
    public func bumpLockSeq() { shared.pointee.lockSeq.wrappingAdd(1, ordering: .releasing) }

    /// A mutation announces the range it works on, so that faulters can aim
    /// some faults there, where the races are (relaxed: a hint, not a protocol).
    @inline(__always)
    public func announce(_ r: PageRange) {
        shared.pointee.hotRange.store(r.start << 32 | min(r.count, 0xFFFF_FFFF), ordering: .relaxed)
    }

    /// Forgets the announced range (after the set-up, before the workers start).
    public func clearAnnouncement() { shared.pointee.hotRange.store(0, ordering: .relaxed) }

    /// The last announced range, if any.
    @inline(__always)
    public var hotRange: PageRange? {
        let w = shared.pointee.hotRange.load(ordering: .relaxed)
        return w == 0 ? nil : PageRange(start: w >> 32, count: w & 0xFFFF_FFFF)
    }

    /// locktorture's long write-side holds: a writer passing `point` stalls
    /// there now and then, so readers meet the half-done state (`WritePoint`).
    @inline(__always)
    public func writerDelay(_ point: WritePoint) { writeDelays.pass(point) }

    /// Where the writer is, for the stall watchdog's dump (relaxed: a report, not a protocol).
    public func setWriterStep(_ step: WriterStep, vma id: UInt64 = 0) {
        shared.pointee.writerStep.store(id << 8 | UInt64(step.rawValue), ordering: .relaxed)
    }

    public var writerStep: (step: WriterStep, vmaID: UInt64) {
        let w = shared.pointee.writerStep.load(ordering: .relaxed)
        return (WriterStep(rawValue: UInt8(w & 0xFF)) ?? .idle, w >> 8)
    }

    /// Whether mutations look for PTEs in the holes they map (`--check` full
    /// or light), before the run starts.
    public var auditsHoles: Bool { shared.pointee.auditHoles.load(ordering: .relaxed) }
    public func setAuditsHoles(_ on: Bool) { shared.pointee.auditHoles.store(on, ordering: .relaxed) }

    /// Turns the torture delays (`writerDelay`) on or off, before the run starts.
    public func setTortureDelays(_ on: Bool) { writeDelays.setEnabled(on) }

    /// Records a PTE found where a mutation expected none (see `clobberedPTEs`).
    public func noteHolePTE(_ page: UInt64) {
        shared.pointee.lastClobberedPage.store(page, ordering: .relaxed)
        shared.pointee.clobberedPTEs.wrappingAdd(1, ordering: .relaxed)
    }

    /// Records a PTE that changed while take-all-locks held every lock.
    public func noteChangedUnderAllLocks(_ page: UInt64) {
        shared.pointee.lastChangedPage.store(page, ordering: .relaxed)
        shared.pointee.changedUnderAllLocks.wrappingAdd(1, ordering: .relaxed)
    }

    /// Those recorded since the last call.
    public func takeChangedUnderAllLocks() -> (count: UInt64, lastPage: UInt64) {
        (shared.pointee.changedUnderAllLocks.exchange(0, ordering: .relaxed), shared.pointee.lastChangedPage.load(ordering: .relaxed))
    }

    /// The clobbered PTEs recorded since the last call (each is reported once).
    public func takeHolePTEs() -> (count: UInt64, lastPage: UInt64) {
        (shared.pointee.clobberedPTEs.exchange(0, ordering: .relaxed), shared.pointee.lastClobberedPage.load(ordering: .relaxed))
    }

    public var refUnderflows: (count: UInt64, lastVMAID: UInt64) {
        (shared.pointee.refUnderflows.load(ordering: .relaxed),
         shared.pointee.lastUnderflowVMA.load(ordering: .relaxed))
    }

    /// Where the store's memory lives: sampled pages of each region, by node.
    public func residency() -> [MemoryResidency] {
        var tables: [String: Int] = [:]
        for (p, n) in pageTable.regions {
            for (k, v) in NodeMemory.residency(of: p, bytes: n, samples: 1) { tables[k, default: 0] += v }
        }
        return [
            MemoryResidency(region: "vma-records", bytes: vmas.region.1, pages: NodeMemory.residency(of: vmas.region.0, bytes: vmas.region.1)),
            MemoryResidency(region: "vma-list", bytes: list.region.1, pages: NodeMemory.residency(of: list.region.0, bytes: list.region.1)),
            MemoryResidency(region: "page-tables", bytes: pageTable.bytesAllocated, pages: tables),
        ]
    }

    public func destroy() {
        list.destroy()
        index.destroy()
        pageTable.destroy()
        vmas.destroy()
        writeDelays.destroy()
        mmapLock.destroy()
        shared.deinitialize(count: 1)
        shared.deallocate()
    }
}

/// The mm writer's step, as the stall dump shows it.
public enum WriterStep: UInt8, Sendable {
    case idle, waitingForMMapLock, holdingMMapLock, waitingForVMAReaders

    public func describe(vma id: UInt64) -> String {
        switch self {
        case .idle: return "no writer inside"
        case .waitingForMMapLock: return "a writer waits for mmap_lock (write)"
        case .holdingMMapLock: return "a writer holds mmap_lock (write)"
        case .waitingForVMAReaders: return "a writer holds mmap_lock (write) and waits in vma_start_write for the readers of VMA id \(id)"
        }
    }
}
