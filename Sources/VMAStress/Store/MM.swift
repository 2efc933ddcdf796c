import Synchronization

/// The process address space (`mm_struct`): the ordered VMA list, the
/// lookup tree, the page tables, the VMA cache it shares, `mmap_lock`, and the state
/// the lockless strategies add (mm seqlock, tree rwlock, `mm_lock_seq`).
/// A handle: copies share the same memory; `destroy()` once, after every
/// thread is done.
public struct MM: @unchecked Sendable {
    struct Shared: ~Copyable {
        let nextGen = Atomic<UInt64>(1)
        /// The mm seqlock of the SPF patches: odd while a writer changes the tree.
        /// Writers are serialised by mmap_lock.
        let seq = SeqCount()
        /// `mm_lock_seq` (Linux 6.4): a VMA whose `lockSeq` equals it is write-locked.
        let lockSeq = Atomic<UInt64>(0)
        /// The tree rwlock of SPF v9 (`mm_rb_lock`).
        let treeLock = QRWLock()
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
    /// The VMA cache, shared by every mm of a run (`vm_area_cachep`).
    public let vmas: VMAAllocator
    /// The mm_struct cache this mm's identity lives in, shared likewise.
    public let mms: MMCache
    /// Who this mm is (`MMCache`): what its VMAs' `owner` holds.
    public let identity: UInt64
    /// What the write side saw that the checker judges (REF, STALE-PTE evidence).
    public let evidence: WriteEvidence
    /// The writer's announced range, step and delay points: aids for the
    /// workload, the watchdog and the torture, not part of any protocol.
    public let probes: WriterProbes
    let shared: UnsafeMutablePointer<Shared>
    /// The caches are this mm's own (a run of one mm), freed with it.
    let ownsCaches: Bool
    /// A copy of this mm in memory of its own: what the slow paths a fault
    /// leaves for (fallback, lookup under mmap_lock) take, one word instead of
    /// the whole struct copied at every call.
    public let handle: UnsafePointer<MM>

    /// An mm; with `caches`, one of several sharing them (`--mms`), else the only one.
    public init(pages: UInt64, maxVMAs: Int, index kind: IndexKind = .rbtree, memory: MemoryPolicy = .system,
                caches: MMCaches? = nil, nodeRoom: Int = 32_768) {
        space = PageRange(0, pages)
        mmapLock = RWSem()
        list = VMAList(memory: memory)
        index = VMATree(kind: kind, capacity: maxVMAs, memory: memory, room: nodeRoom)
        pageTable = PageTable(pages: pages, memory: memory)
        let c = caches ?? MMCaches(vmas: maxVMAs, mms: 1, memory: memory)
        ownsCaches = caches == nil
        vmas = c.vmas
        mms = c.mms
        guard let id = c.mms.allocate() else { fatalError("the mm cache is full: size it for every mm the run makes") }
        identity = id
        evidence = WriteEvidence()
        probes = WriterProbes()
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared())
        let box = UnsafeMutablePointer<MM>.allocate(capacity: 1)
        handle = UnsafePointer(box)
        box.initialize(to: self)
    }

    /// A detached record of this mm (vm_area_alloc); nil when the VMA cache is full.
    public func allocateVMA(_ range: PageRange, prot: Prot, flags: UInt32, gen: UInt64) -> VMAPtr? {
        vmas.allocate(range, prot: prot, flags: flags, gen: gen, owner: identity)
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
        case .underflow: evidence.noteRefUnderflow(v)
        }
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
    /// up_write of mmap_lock, then the `after-mmap-unlock` write delay point.
    public func mmapWriteUnlock() {
        mmapLock.writeUnlock()
        probes.delay(.afterMMapUnlock)
    }

    /// vma_end_write_all: every VMA write lock taken under this mmap_lock hold is released at once.
    public func bumpLockSeq() { shared.pointee.lockSeq.wrappingAdd(1, ordering: .releasing) }
    /// mm_lock_seqcount_begin (6.15: `mm_lock_seq` is a seqcount, odd while
    /// mmap_lock is write-held): the increment, then a release fence, so it is
    /// seen before any store the writer makes next.
    public func beginLockSeq() {
        shared.pointee.lockSeq.wrappingAdd(1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
    }
    /// `mm_lock_seq`, relaxed: the reader's early, pessimistic compare.
    @inline(__always) public var lockSeqRelaxed: UInt64 { shared.pointee.lockSeq.load(ordering: .relaxed) }

    /// Where the store's memory lives: sampled pages of each region, by node.
    public func residency() -> [MemoryResidency] {
        return [
            MemoryResidency(region: "vma-records", bytes: vmas.region.1, pages: NodeMemory.residency(of: vmas.region.0, bytes: vmas.region.1)),
            MemoryResidency(region: "vma-list", bytes: list.bytesAllocated, pages: Self.residency(of: list.regions)),
            MemoryResidency(region: "page-tables", bytes: pageTable.bytesAllocated, pages: Self.residency(of: pageTable.regions)),
        ]
    }

    /// Sampled residency of many small regions, one page each.
    static func residency(of regions: [(UnsafeRawPointer, Int)]) -> [String: Int] {
        var pages: [String: Int] = [:]
        for (p, n) in regions {
            for (k, v) in NodeMemory.residency(of: p, bytes: n, samples: 1) { pages[k, default: 0] += v }
        }
        return pages
    }

    /// Frees the mm's memory; `identityDropped`: its own mmdrop was already done (`--mm-churn` exits).
    public func destroy(identityDropped: Bool = false) {
        list.destroy()
        index.destroy()
        pageTable.destroy()
        if !identityDropped { mms.drop(identity) }
        if ownsCaches { MMCaches(vmas: vmas, mms: mms).destroy() }
        evidence.destroy()
        probes.destroy()
        mmapLock.destroy()
        shared.deinitialize(count: 1)
        shared.deallocate()
        UnsafeMutablePointer(mutating: handle).deinitialize(count: 1).deallocate()
    }
}

/// What the mms of a run share: the VMA cache (`vm_area_cachep`) and the mm_struct cache.
public struct MMCaches: @unchecked Sendable {
    public let vmas: VMAAllocator
    public let mms: MMCache

    public init(vmas: VMAAllocator, mms: MMCache) {
        self.vmas = vmas
        self.mms = mms
    }

    /// Room for `vmas` VMA records and `mms` mms alive at once (with a quarantine of destroyed ones).
    public init(vmas: Int, mms: Int, memory: MemoryPolicy = .system) {
        self.init(vmas: VMAAllocator(capacity: vmas, memory: memory), mms: MMCache(capacity: mms + (mms > 1 ? 64 : 0)))
    }

    public func destroy() {
        vmas.destroy()
        mms.destroy()
    }
}
