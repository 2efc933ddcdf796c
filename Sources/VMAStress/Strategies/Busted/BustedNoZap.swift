/// munmap (and mprotect to PROT_NONE) skip zap_pte_range: PTEs outlive their VMA.
public struct BustedNoZap: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-no-zap",
        summary: "munmap skips zap_pte_range, so PTEs outlive the VMA",
        origin: "the bug class the unmap_region/free_pgtables ordering exists to prevent",
        breaks: .stalePTE, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    public func zapPTEs(_ range: PageRange, of v: VMAPtr) -> Int { 0 }
}
