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
public struct PerVMALock<F: RCUFlavor>: RCUReaders {
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
        mm.writerDelay(.afterLockSeqBump)
        mm.mmapLock.writeUnlock()
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
        mm.setWriterStep(.waitingForVMAReaders, vma: v.id)
        v.pointee.lock.writeLock()
        v.pointee.lockSeq.store(seq, ordering: .relaxed)
        mm.writerDelay(.lockSeqSet)
        v.pointee.lock.writeUnlock()
        mm.setWriterStep(.holdingMMapLock)
    }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        lockedFault(page, write: write, endReadOnAccessError: true, &ctx)
    }

    @inline(__always)
    func lockedFault(_ page: UInt64, write: Bool, endReadOnAccessError: Bool, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculativeAttempt)
        F.readLock()
        guard let v = ctx.find(mm, page) else {
            F.readUnlock()
            return ctx.fallback(mm, .abortNotFound, page, write: write)
        }
        let id = v.id
        ctx.delay(.afterLookup)
        if let violation = ctx.checkLive(v, id: id) ?? ctx.readPipe(v, id: id) {
            F.readUnlock()
            return violation
        }
        if let failed = startRead(v, &ctx) {
            ctx.linger()
            F.readUnlock()
            return ctx.fallback(mm, failed, page, write: write)
        }
        guard v.start <= page && page < v.end else {
            v.pointee.lock.readUnlock()
            F.readUnlock()
            return ctx.fallback(mm, .abortBounds, page, write: write)
        }
        guard v.isAttached else {
            v.pointee.lock.readUnlock()
            F.readUnlock()
            return ctx.fallback(mm, .abortDetached, page, write: write)
        }
        F.readUnlock()
        ctx.delay(.afterPin)

        // Under the VMA read lock no writer changes the fields: a bad checksum is TORN.
        let start = v.start, end = v.end, prot = v.prot, flags = v.flags, gen = v.gen
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen,
                      checksum: v.pointee.checksum.load(ordering: .relaxed)) {
            v.pointee.lock.readUnlock()
            return .torn(vmaID: id)
        }
        guard prot.contains(.access(write: write)) else {
            if endReadOnAccessError { v.pointee.lock.readUnlock() }
            return ctx.fallback(mm, .abortAccess, page, write: write)
        }
        ctx.delay(.beforePTL)
        let t = mm.pageTable.table(for: page)
        t.lock()
        ctx.delay(.underPTL)
        var result = mm.installLocked(t, Int(page % UInt64(PageTable.ptesPerTable)), gen: gen, write: write)
        t.unlock()
        ctx.delay(.afterCommit)
        if let dead = ctx.checkLive(v, id: id) { result = dead }
        v.pointee.lock.readUnlock()
        if !result.isViolation { ctx.note(.speculativeSuccess) }
        return result
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
