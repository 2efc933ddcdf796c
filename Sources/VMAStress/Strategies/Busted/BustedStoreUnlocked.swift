/// per-vma-lock storing a new VMA in the tree before write-locking it (the
/// window Jann Horn found in seed 004): mremap's destination VMA is
/// reachable and unlocked while page tables are still being moved into it,
/// so faults populate it and the move lands on their PTEs.
public struct BustedStoreUnlocked<F: RCUFlavor>: BustedTwin {
    public static var info: StrategyInfo {
        PerVMALock<F>.info.twin(
            name: "busted-store-unlocked",
            summary: "per-vma-lock storing a new VMA in the tree before vma_start_write",
            origin: "Jann Horn's review of the maple tree munmap reorder, 2023 (seed 004)",
            breaks: .stalePTE, caughtWith: RunShape(mix: "hot=100"))
    }

    public let base: PerVMALock<F>
    public init(mm: MM) { base = PerVMALock(mm: mm) }

    /// Not locked before it is stored ...
    public func vmaPrepare(_ v: VMAPtr) {}
    /// ... and a VMA not yet in the tree is taken to need no lock.
    public func vmaWriteBegin(_ v: VMAPtr) {
        if v.isAttached { base.vmaWriteBegin(v) }
    }
}
