/// per-vma-refcount whose retry after a detached VMA walks on from the
/// tree position it kept (a maple state not reset) after rcu_read_unlock:
/// the leaf it points at may have been replaced and freed meanwhile.
public struct BustedWalkNotReset<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMARefcount<F>.info.twin(
            name: "busted-walk-not-reset",
            summary: "per-vma-refcount retrying a detached VMA from the walk state kept across rcu_read_unlock",
            origin: "270065f514c5 \"mm/mmap_lock: reset maple state on lock_vma_under_rcu() retry\" (2025)",
            breaks: .uaf)
    }

    public let base: PerVMARefcount<F>
    public init(mm: MM) { base = PerVMARefcount(mm: mm) }

    /// The broken step: every walk keeps its position, and a retry resumes from it.
    @inline(__always)
    public func lookup(_ page: UInt64, retrying: Bool, _ ctx: inout FaultContext) -> VMAPtr? {
        retrying ? ctx.resumeWalk(mm, page) : ctx.findKeepingWalk(mm, page)
    }
}
