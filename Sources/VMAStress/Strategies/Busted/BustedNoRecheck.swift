/// spf-rcu without the VMA seqcount re-check under the PTL at commit: a
/// fault validated before munmap or mprotect installs its PTE after the
/// writer zapped or downgraded the range.
public struct BustedNoRecheck<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        SPFRCU<F>.info.twin(
            name: "busted-no-recheck",
            summary: "spf-rcu skipping the VMA seqcount re-check under the PTL at commit",
            origin: "the check pte_map_lock / the commit step exists for (SPF series)",
            breaks: .stalePTE, caughtWith: RunShape(mutators: 2, mix: "hot=100"))
    }

    public let base: SPFRCU<F>
    public init(mm: MM) { base = SPFRCU(mm: mm) }

    /// The broken step: validation as spf-rcu's, then the PTE installed under the PTL without re-checking the seqcount.
    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        switch SpeculativeFault.validate(mm, v, id: id, page, write: write, &ctx) {
        case .abort: return nil
        case let .violation(r): return r
        case let .valid(snap):
            let slot = PageTable.split(page).slot
            ctx.delay(.beforePTL)
            snap.table.faultWork(slot)
            snap.table.lock()
            ctx.delay(.underPTL)
            let r = mm.installLocked(snap.table, slot, gen: snap.gen, write: write)
            snap.table.unlock()
            return r
        }
    }
}
