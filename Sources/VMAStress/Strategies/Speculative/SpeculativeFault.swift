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

    /// What validation read and checked: the seqcount to re-check at commit, the page table, the generation to stamp.
    public struct Snapshot {
        let seq: UInt32
        let gen: UInt64
        let table: PageTable.Table
    }

    public enum Validation {
        case valid(Snapshot)
        /// Abort to the fallback (counted).
        case abort
        case violation(FaultResult)
    }

    /// Steps 1 to 4, then the commit.
    @inline(__always)
    public static func handle(_ mm: MM, _ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, ptl: PTLMode,
                              _ ctx: inout FaultContext) -> FaultResult? {
        switch validate(mm, v, id: id, page, write: write, &ctx) {
        case let .valid(snap): return commit(mm, v, snap, page, write: write, ptl: ptl, &ctx)
        case .abort: return nil
        case let .violation(r): return r
        }
    }

    /// Steps 1 to 4: the seqcount, the fields and their re-check, bounds and access, the page table.
    @inline(__always)
    public static func validate(_ mm: MM, _ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool,
                                _ ctx: inout FaultContext) -> Validation {
        let s = v.pointee.seq.readRaw()
        if s & 1 != 0 {
            ctx.note(.abortSeqChanged)
            ctx.linger()
            return .abort
        }
        if !v.isAttached {
            ctx.note(.abortDetached)
            ctx.linger()
            return .abort
        }
        // A writer that begins here changes the fields while they are read: the re-check below must catch it.
        ctx.delay(.betweenChecks)
        let start = v.start, end = v.end, prot = v.prot, flags = v.flags, gen = v.gen
        let sum = v.pointee.checksum.load(ordering: .relaxed)
        if v.pointee.seq.readRetry(s) {
            ctx.note(.abortSeqChanged)
            ctx.linger()
            return .abort
        }
        if ctx.isTorn(start: start, end: end, prot: prot, flags: flags, gen: gen, checksum: sum) {
            return .violation(.torn(vmaID: id))
        }
        guard start <= page && page < end else {
            ctx.note(.abortBounds)
            return .abort
        }
        guard prot.contains(.access(write: write)) else {
            ctx.note(.abortAccess)
            return .abort
        }
        guard let t = mm.pageTable.existingTable(for: page) else {
            ctx.note(.abortNoPageTable)
            return .abort
        }
        return .valid(Snapshot(seq: s, gen: gen, table: t))
    }

    /// Step 5: the PTL, the re-check under it, the PTE.
    @inline(__always)
    public static func commit(_ mm: MM, _ v: VMAPtr, _ snap: Snapshot, _ page: UInt64, write: Bool, ptl: PTLMode,
                              _ ctx: inout FaultContext) -> FaultResult? {
        let t = snap.table, slot = PageTable.split(page).slot
        t.faultWork(slot)
        ctx.delay(.beforePTL)
        switch ptl {
        case .lock:
            t.lock()
        case .trylock:
            while !t.tryLock() {
                ctx.note(.retryPTLTrylock)
                if v.pointee.seq.readRetry(snap.seq) {
                    ctx.note(.abortSeqChanged)
                    return nil
                }
                spinHint()
            }
        }
        // Under the PTL: a writer that changed the VMA after our check zaps
        // or downgrades this PTE after we drop the lock; one that changed it
        // before is visible here (its seqcount bump precedes its PTL section).
        if v.pointee.seq.readRetry(snap.seq) || !v.isAttached {
            t.unlock()
            ctx.note(.abortSeqChanged)
            return nil
        }
        ctx.delay(.underPTL)
        let r = mm.installLocked(t, slot, gen: snap.gen, write: write)
        t.unlock()
        return r
    }
}
