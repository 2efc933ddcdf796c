/// per-vma-lock whose B-tree frees replaced nodes at once instead of after
/// an RCU grace period: a lockless walk still on the old path lands on a
/// freed node. It would usually restart cleanly, but that read is already
/// the bug (in the kernel the node may be reused by then): a UAF.
public struct BustedNodeFreeNoGracePeriod<F: RCUFlavor>: BustedTwin {
    public static var info: StrategyInfo {
        PerVMALock<F>.info.twin(
            name: "busted-node-free-no-gp",
            summary: "per-vma-lock freeing replaced B-tree nodes at once instead of after a grace period",
            origin: "the rule maple tree RCU mode exists for: nodes a reader may be walking are freed through call_rcu",
            breaks: .uaf)
    }

    public let base: PerVMALock<F>
    public init(mm: MM) {
        base = PerVMALock(mm: mm)
        mm.index.bt.setReclaim(nil)
    }
}
