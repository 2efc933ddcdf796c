import Glibc
import Synchronization

/// `per-vma-refcount`: per-VMA locks as one reference count (Linux 6.15+,
/// Suren Baghdasaryan's "reimplement per-vma lock as a refcount", v10),
/// VMAs in a type-safe cache (`SLAB_TYPESAFE_BY_RCU`). DESIGN.md §1b.
///
/// `vm_refcnt` (the VMA's `refs`): 0 detached or free, 1 attached, one more
/// per reader, plus `writerBit` while a writer drains the readers.
///
/// Read side (lock_vma_under_rcu, vma_start_read): rcu_read_lock; walk the
/// B-tree; fail if vm_lock_seq equals mm_lock_seq; take a reference unless
/// the count is 0 (detached: reset the walk and retry) or has the writer's
/// bit (fail); if the VMA is another mm's, pin that mm, drop the reference,
/// unpin it, fail; compare vm_lock_seq with an acquiring read of
/// mm_lock_seq again; rcu_read_unlock; then check the range; fault under
/// the reference; vma_end_read drops it and wakes a writer waiting for the
/// last reader.
///
/// Write side: mmap_write_lock makes mm_lock_seq odd; vma_start_write adds
/// the writer's bit (unless detached), waits until only the bit and the
/// tree's count remain, sets vm_lock_seq, removes the bit;
/// vma_mark_attached sets 1 (releasing) before the tree store;
/// vma_mark_detached drops the tree's count and waits for readers that
/// slipped in; the VMA goes back to the cache at once (no call_rcu). B-tree
/// nodes are still freed after a grace period. mmap_write_unlock makes
/// mm_lock_seq even, which releases every VMA write lock at once.
public struct PerVMARefcount<F: RCUFlavor>: RCUReaders, LocklessSteps {
    public typealias Flavor = F

    public static var info: StrategyInfo {
        StrategyInfo(
            name: "per-vma-refcount",
            summary: "RCU walk of the B-tree, then a reference on vm_refcnt (writer bit, foreign-mm check, range check after the walk); VMAs in a type-safe cache",
            origin: "Suren Baghdasaryan, per-VMA locks as a refcount, Linux 6.15 (2025)",
            indexes: [.btree], usesRCU: true)
    }

    /// VMA_LOCK_OFFSET: a writer draining readers.
    public static var writerBit: UInt32 { 1 << 30 }
    /// VMA_REF_LIMIT: a reader's increment may not reach the writer's bit.
    public static var refLimit: UInt32 { writerBit - 1 }

    public let mm: MM
    let nodes: DeferredFree?

    public init(mm: MM) {
        self.mm = mm
        mm.vmas.setTypeSafe()
        nodes = .treeNodes(mm, F.kind)
    }

    /// mmap_write_lock: down_write, then mm_lock_seqcount_begin.
    public func mmWriteLock() {
        mm.mmapLock.writeLock()
        mm.beginLockSeq()
    }

    /// mmap_write_unlock: vma_end_write_all (mm_lock_seqcount_end), then up_write.
    public func mmWriteUnlock() {
        mm.bumpLockSeq()
        mm.probes.delay(.afterLockSeqBump)
        mm.mmapWriteUnlock()
    }

    public func vmaWriteBegin(_ v: VMAPtr) { startWrite(v) }
    public func vmaPrepare(_ v: VMAPtr) { startWrite(v) }
    /// vma_mark_attached, before the tree store: the count readers may take.
    public func vmaAttach(_ v: VMAPtr) { v.pointee.refs.setReleasing(1) }

    /// vma_mark_detached, then vm_area_free: straight back to the type-safe cache.
    public func vmaRetire(_ v: VMAPtr) {
        markDetached(v)
        mm.vmas.free(v)
    }

    /// vma_start_write: unless already write-locked in this mmap_lock hold,
    /// exclude readers with the writer's bit, wait for the ones inside, and
    /// set vm_lock_seq to the (odd) mm_lock_seq.
    public func startWrite(_ v: VMAPtr) {
        // relaxed: mm_lock_seq changes only under the mm write lock, which we hold.
        let seq = mm.lockSeqRelaxed
        if v.pointee.lockSeq.load(ordering: .relaxed) == seq { return }
        mm.probes.setStep(.waitingForVMAReaders, vma: v.id)
        let excluding = enterLocked(v, detaching: false)
        v.pointee.lockSeq.store(seq, ordering: .relaxed)
        mm.probes.delay(.lockSeqSet)
        if excluding { _ = v.pointee.refs.subtract(Self.writerBit) }
        mm.probes.setStep(.holdingMMapLock)
    }

    /// vma_mark_detached (the VMA is write-locked): drop the tree's count;
    /// if readers slipped in (they hold it only until they see the lock),
    /// wait for them to leave.
    func markDetached(_ v: VMAPtr) {
        let old = v.pointee.refs.decrement()
        if old == 0 { return mm.evidence.noteRefUnderflow(v) }
        if old != 1 && enterLocked(v, detaching: true) { _ = v.pointee.refs.subtract(Self.writerBit) }
    }

    /// __vma_enter_locked: adds the writer's bit unless the count is 0
    /// (detached: no reader can raise it) and waits until only the bit (and
    /// the tree's count, unless detaching) remain. false: it was 0.
    func enterLocked(_ v: VMAPtr, detaching: Bool) -> Bool {
        guard v.pointee.refs.addUnlessZero(Self.writerBit) else { return false }
        let target = Self.writerBit + (detaching ? 0 : 1)
        var spins = 0
        // rcuwait_wait_event: the last reader's put wakes us; the model spins, then yields.
        while v.pointee.refs.acquiredValue != target {
            spins += 1
            if spins > 128 { sched_yield() } else { spinHint() }
        }
        return true
    }

    // The read side, in LocklessFault's steps.

    public static var lookupRetriesOnMMSeq: Bool { false }
    public static var anonymousOnly: Bool { false }
    public static var typeSafeVMAs: Bool { true }

    @inline(__always) public func enterFault(_ ctx: inout FaultContext) {}
    @inline(__always) public func leaveFault(_ s: Void) {}
    @inline(__always) public func enterLookup() { F.readLock() }
    @inline(__always) public func leaveLookup() { F.readUnlock() }

    /// vma_start_read, inside the RCU section. The record may be free, or
    /// reused by another VMA or another mm: only the count decides.
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        if let failed = takeReference(v, &ctx) { return failed }
        // Another process's VMA now: dropped once out of the RCU section (`release`).
        if v.owner != mm.identity { return .drop(.abortForeignMM) }
        return recheckLockSeq(v, &ctx)
    }

    /// The early, pessimistic compare, then the reference (below the writer's
    /// bit); nil once it is held.
    @inline(__always)
    func takeReference(_ v: VMAPtr, _ ctx: inout FaultContext) -> PinOutcome? {
        // A false "locked" costs a fallback, nothing more.
        if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeqRelaxed { return .failed(.abortLockSeq) }
        ctx.delay(.betweenChecks)
        switch v.pointee.refs.getUnlessZeroLimited(Self.refLimit) {
        case .zero: return .retry(.retryDetached)
        case .overLimit:
            ctx.linger()
            return .failed(.abortWriterBit)
        case .taken: return nil
        }
    }

    /// With the reference held: acquiring (`lockSeq`), so that if a writer's
    /// vma_end_write_all raced, its changes are seen.
    @inline(__always)
    func recheckLockSeq(_ v: VMAPtr, _ ctx: inout FaultContext) -> PinOutcome {
        if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeq {
            if let r = put(v, &ctx) { return .violation(r) }
            return .failed(.abortLockSeq)
        }
        return .pinned
    }

    /// A VMA another process now owns, after rcu_read_unlock: pin that mm
    /// (mmgrab) so the put's wake-up cannot touch it freed, drop the
    /// reference, unpin the mm. (9bbffee67ffd, CVE-2025-38554.)
    @inline(never)
    public func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? {
        let owner = v.owner
        holdForeign(&ctx)
        mm.mms.grab(owner)
        let r = put(v, &ctx)
        mm.mms.drop(owner)
        return r
    }

    /// Holding another mm's VMA: stay a while, so that mm's exit may be waiting on it by now.
    func holdForeign(_ ctx: inout FaultContext) {
        ctx.delay(.afterPin)
        ctx.lingerLong()
    }

    /// vma_refcount_put: drop the reference; if that leaves only a writer's
    /// bit, wake the writer of the mm the VMA belonged to (read before the
    /// put: the VMA may be reused after it). The wake-up checks that mm is
    /// alive: a destroyed one is the use after free it would have been.
    @inline(__always)
    func put(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? {
        let owner = v.owner
        guard Self.leavesWriterOnly(v.pointee.refs.decrement()) else { return nil }
        if owner == mm.identity {
            ctx.delay(.beforeWake)
        } else {
            ctx.preempted(at: .beforeWake) { !mm.mms.isLive(owner) }
        }
        return mm.mms.wakeWriter(owner) ? nil : .mmFreed(identity: owner)
    }

    /// is_vma_writer_only, of the count a put left (`old - 1`).
    @inline(__always)
    static func leavesWriterOnly(_ old: UInt32) -> Bool { old & writerBit != 0 && old - 1 <= writerBit + 1 }

    /// After rcu_read_unlock, under the reference: the VMA may have been
    /// reused in this mm at another address, or shrunk.
    @inline(__always)
    public func confirm(_ v: VMAPtr, _ page: UInt64, _ ctx: inout FaultContext) -> FaultEvent? {
        v.start <= page && page < v.end ? nil : .abortBounds
    }

    /// Under the reference no writer changes the fields: the access check,
    /// then under the PTL, where the fault acts, REUSE (a record of another
    /// mm, the cause, before what it shows: fields in flux), then TORN on the
    /// fields the fault used; then the PTE.
    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        let start = v.start, end = v.end, prot = v.prot, flags = v.flags, gen = v.gen
        let checksum = v.pointee.checksum.load(ordering: .relaxed)
        guard prot.contains(.access(write: write)) else {
            ctx.note(.abortAccess)
            return nil
        }
        ctx.delay(.beforePTL)
        let t = mm.pageTable.table(for: page), slot = PageTable.split(page).slot
        t.faultWork(slot)
        t.lock()
        ctx.delay(.underPTL)
        if let r = ctx.checkReuse(v, id: id, mm, page) {
            t.unlock()
            return r
        }
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen, checksum: checksum) {
            t.unlock()
            return .torn(vmaID: id)
        }
        let result = mm.installLocked(t, slot, gen: gen, write: write)
        t.unlock()
        return result
    }

    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? { ctx.checkLive(v, id: id) }

    /// vma_end_read: a VMA of this mm (the pin checked), whose writer wait is this mm's.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) {
        if Self.leavesWriterOnly(v.pointee.refs.decrement()) { _ = mm.mms.wakeWriter(mm.identity) }
    }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }

    /// uprobes' find_active_uprobe_speculative over mmap_lock speculation
    /// (6.14): under rcu_read_lock, mmap_lock_speculate_try_begin (fails
    /// while mmap_lock is write-held: mm_lock_seq odd), the walk, the fields
    /// read, mmap_lock_speculate_retry; on either failure, mmap_read_lock.
    /// A validated read is checked: its fields match their checksum (TORN),
    /// and the VMA is this mm's and covers the page (REUSE).
    public func lookup(_ page: UInt64, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculateAttempt)
        F.readLock()
        let seq = mm.lockSeq
        guard seq & 1 == 0 else {
            F.readUnlock()
            ctx.note(.speculateWriteLocked)
            ctx.note(.speculateFallback)
            return ctx.lookupUnderMMapLock(mm.handle, page)
        }
        let v = ctx.find(mm, page)
        let start = v?.start ?? 0, end = v?.end ?? 0, prot = v?.prot ?? .none, flags = v?.flags ?? 0
        let gen = v?.gen ?? 0, owner = v?.owner ?? 0, id = v?.id ?? 0
        let checksum = v?.pointee.checksum.load(ordering: .relaxed) ?? 0
        ctx.delay(.afterLookup)
        // read_seqcount_retry: the loads above before the sequence's second read.
        atomicMemoryFence(ordering: .acquiring)
        let moved = mm.lockSeqRelaxed != seq
        F.readUnlock()
        if moved {
            ctx.note(.speculateRetry)
            ctx.note(.speculateFallback)
            return ctx.lookupUnderMMapLock(mm.handle, page)
        }
        ctx.note(.speculateSuccess)
        guard v != nil else { return .noVMA }
        guard ctx.checks else { return .present }
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen, checksum: checksum) { return .torn(vmaID: id) }
        if owner != mm.identity { return .reuse(vmaID: id, why: .foreignMM) }
        if !(start <= page && page < end) { return .reuse(vmaID: id, why: .outsideRange) }
        return .present
    }

    public func quiesce() { nodes?.barrier() }
}
