/// per-vma-refcount without the range check after rcu_read_unlock: the
/// reference may be on a record that was freed and handed out again, in
/// the same mm, for another range, between the walk and the increment. The
/// fault then installs a PTE for a page that VMA does not cover.
public struct BustedNoRangeCheck<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMARefcount<F>.info.twin(
            name: "busted-no-range-check",
            summary: "per-vma-refcount without the range check after the walk: acts on a reused VMA at another address",
            origin: "the check lock_vma_under_rcu makes once it holds vm_refcnt (\"the vma we locked is the right one\"), needed since the cache became SLAB_TYPESAFE_BY_RCU (Linux 6.15)",
            breaks: .reuse)
    }

    public let base: PerVMARefcount<F>
    public init(mm: MM) { base = PerVMARefcount(mm: mm) }

    /// The broken step: no range check.
    @inline(__always) public func confirm(_ v: VMAPtr, _ page: UInt64, _ ctx: inout FaultContext) -> FaultEvent? { nil }
}
