/// The speculative fault once a VMA is in hand and pinned (by SRCU, RCU or a
/// reference), step by step as the SPF series does it:
///
/// 1. read the VMA's seqcount raw; abort if odd (a writer is inside) or if
///    the VMA is detached;
/// 2. read its fields, then re-check the count (abort if it moved); a read
///    that passed with a bad checksum is TORN;
/// 3. check bounds and access (abort: the classic path raises the SIGSEGV);
/// 4. walk the page tables without allocating (abort if there is no table);
/// 5. commit: take the PTL, abort unless the seqcount is unchanged and the
///    VMA still attached, then install the PTE.
///
/// nil means "abort, fall back to mmap_lock"; the reason is counted in `ctx`.
/// A reader that finds a writer at work lingers before it leaves (`linger`).
public enum SpeculativeFault {
    public enum PTLMode: Sendable {
        /// spin_lock(ptl) (2014, 2019).
        case lock
        /// spin_trylock(ptl); on failure re-check the seqcount and retry (v9's pte_map_lock).
        case trylock
    }

    @inline(__always)
    public static func handle(_ mm: MM, _ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, ptl: PTLMode,
                              recheckAtCommit: Bool = true, _ ctx: inout FaultContext) -> FaultResult? {
        let s = v.pointee.seq.readRaw()
        if s & 1 != 0 {
            ctx.note(.abortSeqChanged)
            ctx.linger()
            return nil
        }
        if !v.isAttached {
            ctx.note(.abortDetached)
            ctx.linger()
            return nil
        }
        let start = v.start, end = v.end, prot = v.prot, flags = v.flags, gen = v.gen
        let sum = v.pointee.checksum.load(ordering: .relaxed)
        ctx.delay(.betweenChecks)
        if v.pointee.seq.readRetry(s) {
            ctx.note(.abortSeqChanged)
            ctx.linger()
            return nil
        }
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen, checksum: sum) {
            return .torn(vmaID: id)
        }
        guard start <= page && page < end else {
            ctx.note(.abortBounds)
            return nil
        }
        guard prot.contains(.access(write: write)) else {
            ctx.note(.abortAccess)
            return nil
        }
        guard let t = mm.pageTable.existingTable(for: page) else {
            ctx.note(.abortNoPageTable)
            return nil
        }
        ctx.delay(.beforePTL)
        switch ptl {
        case .lock:
            t.lock()
        case .trylock:
            while !t.tryLock() {
                ctx.note(.retryPTLTrylock)
                if v.pointee.seq.readRetry(s) {
                    ctx.note(.abortSeqChanged)
                    return nil
                }
                spinHint()
            }
        }
        // Under the PTL: a writer that changed the VMA after our check zaps
        // or downgrades this PTE after we drop the lock; one that changed it
        // before is visible here (its seqcount bump precedes its PTL section).
        if recheckAtCommit && (v.pointee.seq.readRetry(s) || !v.isAttached) {
            t.unlock()
            ctx.note(.abortSeqChanged)
            return nil
        }
        ctx.delay(.underPTL)
        let r = mm.installLocked(t, Int(page % UInt64(PageTable.ptesPerTable)), gen: gen, write: write)
        t.unlock()
        return r
    }
}
