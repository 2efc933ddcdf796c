/// per-vma-refcount dropping its reference on another mm's VMA without
/// pinning that mm: the drop lets that mm's exit go on and free it, and
/// the wake-up that follows touches the freed mm.
public struct BustedForeignPutUnpinned<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMARefcount<F>.info.twin(
            name: "busted-foreign-put-unpinned",
            summary: "per-vma-refcount drops its reference on another mm's VMA without mmgrab: the writer wake-up touches a freed mm",
            origin: "9bbffee67ffd \"mm: fix a UAF when vma->mm is freed after vma->vm_refcnt got dropped\" (CVE-2025-38554)",
            breaks: .uaf, caughtWith: RunShape(mmChurn: true, churnPages: 512, mix: "hot=100"))
    }

    public let base: PerVMARefcount<F>
    public init(mm: MM) { base = PerVMARefcount(mm: mm) }

    /// The broken step: the put without mmgrab and mmdrop around it.
    @inline(never)
    public func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? {
        base.holdForeign(&ctx)
        return base.put(v, &ctx)
    }
}

/// per-vma-refcount pinning another mm around its put and never unpinning
/// it: the mm outlives its exit for good (an mmgrab without its mmdrop).
public struct BustedForeignMMLeak<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMARefcount<F>.info.twin(
            name: "busted-foreign-mm-leak",
            summary: "per-vma-refcount pins another mm (mmgrab) around its put and never drops it: exited mms are never destroyed",
            origin: "the mmgrab/mmdrop pair of 9bbffee67ffd (CVE-2025-38554), with the mmdrop lost",
            breaks: .leak, caughtWith: RunShape(mmChurn: true, churnPages: 512, mix: "hot=100"))
    }

    public let base: PerVMARefcount<F>
    public init(mm: MM) { base = PerVMARefcount(mm: mm) }

    /// The broken step: mmgrab, the put, and no mmdrop.
    @inline(never)
    public func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? {
        base.holdForeign(&ctx)
        base.mm.mms.grab(v.owner)
        return base.put(v, &ctx)
    }
}

/// per-vma-refcount without the check that the VMA it holds is its own
/// mm's: a record reused by another process is faulted on as if it were
/// this mm's.
public struct BustedNoForeignCheck<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMARefcount<F>.info.twin(
            name: "busted-no-foreign-check",
            summary: "per-vma-refcount without the vm_mm check: faults into another process's reused VMA",
            origin: "the vma->vm_mm != mm check vma_start_read needs once VMAs are SLAB_TYPESAFE_BY_RCU (Linux 6.15)",
            breaks: .reuse,
            // In step, a record mm 0 frees is taken by mm 1's same change; take-all-locks only
            // delays that, wide ranges make the adjacent VMAs whose merge frees it, and the one
            // faulter is mm 0's (mm 1's record goes to mm 0's next change, elsewhere).
            caughtWith: RunShape(faulters: 1, mutators: 1, mms: 2, lockstep: true, churnPages: 128,
                                 mix: "take-all-locks=0,hot=100,max-pages=128"))
    }

    public let base: PerVMARefcount<F>
    public init(mm: MM) { base = PerVMARefcount(mm: mm) }

    /// The broken step: the reference and the recheck, without the vm_mm check between them.
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        base.takeReference(v, &ctx) ?? base.recheckLockSeq(v, &ctx)
    }
}
