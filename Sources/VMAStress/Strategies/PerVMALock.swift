/// `per-vma-lock`: Suren Baghdasaryan's per-VMA locks (Linux 6.4).
///
/// Read side (lock_vma_under_rcu): rcu_read_lock; walk the RCU-safe
/// B-tree; vma_start_read (fail if vm_lock_seq equals mm_lock_seq,
/// down_read_trylock, fail if the two now match); check bounds and that
/// the VMA is attached; rcu_read_unlock; fault under the VMA read lock;
/// vma_end_read. Any failure falls back to mmap_lock.
/// Write side: mmap_lock for write; vma_start_write on every VMA touched,
/// before it is reachable or changed (the rule from Jann Horn's review in
/// seed 004); releasing mmap_lock bumps mm_lock_seq, which releases every
/// VMA write lock at once; VMAs are freed through call_rcu.
///
/// vma_start_read may report "locked" falsely (a fallback, harmless), never
/// "unlocked" falsely: a writer sets vm_lock_seq under the VMA's write lock,
/// after the readers holding it drained.
public struct PerVMALock<F: RCUFlavor>: RCUReaders, LocklessSteps {
    public typealias Flavor = F

    public static var info: StrategyInfo {
        StrategyInfo(
            name: "per-vma-lock",
            summary: "RCU walk of the B-tree, then a per-VMA read lock (vm_lock_seq against mm_lock_seq); call_rcu frees",
            origin: "Suren Baghdasaryan, per-VMA locks, Linux 6.4 (2023)",
            indexes: [.btree], usesRCU: true)
    }

    public let mm: MM
    let deferred: DeferredFree
    let nodes: DeferredFree?

    public init(mm: MM) {
        self.mm = mm
        deferred = .vmaFree(mm, source: .rcu(F.kind))
        nodes = .treeNodes(mm, F.kind)
    }

    public func mmWriteLock() { mm.mmapLock.writeLock() }

    /// mmap_write_unlock: vma_end_write_all, then up_write.
    public func mmWriteUnlock() {
        mm.bumpLockSeq()
        mm.probes.delay(.afterLockSeqBump)
        mm.mmapWriteUnlock()
    }

    public func vmaWriteBegin(_ v: VMAPtr) { startWrite(v) }
    public func vmaPrepare(_ v: VMAPtr) { startWrite(v) }
    public func vmaRetire(_ v: VMAPtr) { deferred.retireVMA(v, mm) }

    /// vma_start_write: wait for the VMA's readers to drain, then mark it
    /// locked until the mm write lock is released.
    public func startWrite(_ v: VMAPtr) {
        // relaxed: mm_lock_seq changes only under the mm write lock, which we hold.
        let seq = mm.lockSeq
        if v.pointee.lockSeq.load(ordering: .relaxed) == seq { return }
        mm.probes.setStep(.waitingForVMAReaders, vma: v.id)
        v.pointee.lock.writeLock()
        v.pointee.lockSeq.store(seq, ordering: .relaxed)
        mm.probes.delay(.lockSeqSet)
        v.pointee.lock.writeUnlock()
        mm.probes.setStep(.holdingMMapLock)
    }

    // The read side (lock_vma_under_rcu, then the fault under the VMA's read lock), in LocklessFault's steps.

    public static var lookupRetriesOnMMSeq: Bool { false }
    /// 6.4's lock_vma_under_rcu: "Only anonymous vmas are supported for now".
    public static var anonymousOnly: Bool { true }

    /// No read side spans the fault: the VMA's read lock keeps it.
    @inline(__always) public func enterFault(_ ctx: inout FaultContext) {}
    @inline(__always) public func leaveFault(_ s: Void) {}

    /// rcu_read_lock around the walk and vma_start_read.
    @inline(__always) public func enterLookup() { F.readLock() }
    @inline(__always) public func leaveLookup() { F.readUnlock() }

    /// Inside the RCU section: the UAF and pipe checks, vma_start_read,
    /// then the bounds and whether it is still attached (it may have been
    /// changed or detached between the walk and the lock).
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        if let violation = ctx.checkLive(v, id: id) ?? ctx.readPipe(v, id: id) { return .violation(violation) }
        if let failed = startRead(v, &ctx) {
            ctx.linger()
            return .failed(failed)
        }
        guard v.start <= page && page < v.end else {
            v.pointee.lock.readUnlock()
            return .failed(.abortBounds)
        }
        guard v.isAttached else {
            v.pointee.lock.readUnlock()
            return .failed(.abortDetached)
        }
        return .pinned
    }

    /// Under the VMA read lock no writer changes the fields: a bad checksum
    /// is TORN. The access check, then the PTE under the PTL (the page
    /// table may be allocated: the fault holds the VMA).
    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        let start = v.start, end = v.end, prot = v.prot, flags = v.flags, gen = v.gen
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen,
                      checksum: v.pointee.checksum.load(ordering: .relaxed)) {
            return .torn(vmaID: id)
        }
        guard prot.contains(.access(write: write)) else {
            ctx.note(.abortAccess)
            return nil
        }
        ctx.delay(.beforePTL)
        let t = mm.pageTable.table(for: page), slot = PageTable.split(page).slot
        t.faultWork(slot)
        t.lock()
        ctx.delay(.underPTL)
        let result = mm.installLocked(t, slot, gen: gen, write: write)
        t.unlock()
        return result
    }

    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? { ctx.checkLive(v, id: id) }

    /// vma_end_read, on every exit.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { v.pointee.lock.readUnlock() }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }

    /// vma_start_read: nil when the VMA is now read-locked, else why not.
    @inline(__always)
    func startRead(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultEvent? {
        if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeq { return .abortLockSeq }
        // The race the second compare exists for: a writer locks the VMA (sets
        // vm_lock_seq and drops its lock) between the first compare and the trylock.
        ctx.delay(.betweenChecks)
        if !v.pointee.lock.tryReadLock() { return .abortVMATrylock }
        // The trylock's acquire makes a writer's vm_lock_seq store (made under its write lock) visible.
        if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeq {
            v.pointee.lock.readUnlock()
            return .abortLockSeq
        }
        return nil
    }

    public func quiesce() {
        deferred.barrier()
        nodes?.barrier()
    }

    public var deferredStats: DeferredFreeStats? { deferred.stats }
}
