/// spf-rcu without the VMA seqcount re-check under the PTL at commit: a
/// fault validated before munmap or mprotect installs its PTE after the
/// writer zapped or downgraded the range.
public struct BustedNoRecheck<F: RCUFlavor>: BustedTwin {
    public static var info: StrategyInfo {
        SPFRCU<F>.info.twin(
            name: "busted-no-recheck",
            summary: "spf-rcu skipping the VMA seqcount re-check under the PTL at commit",
            origin: "the check pte_map_lock / the commit step exists for (SPF series)",
            breaks: .stalePTE)
    }

    public let base: SPFRCU<F>
    public init(mm: MM) { base = SPFRCU(mm: mm) }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        base.speculativeFault(page, write: write, recheckAtCommit: false, &ctx)
    }
}
