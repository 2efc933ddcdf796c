/// mmap-lock whose get_unmapped_area answers one page past the first fit:
/// every mapping lands on free pages and the store stays consistent (tree,
/// PTEs, counts), but at the wrong address. Only MAPPING's reference model,
/// which knows where first fit from the hint is, can tell.
public struct BustedUnmappedArea: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-unmapped-area",
        summary: "get_unmapped_area returns the gap one page past the first fit (a consistent store, mapped in the wrong place)",
        origin: "an off-by-one in the gap search (the class vm_unmapped_area's tests in tools/testing/vma catch)",
        breaks: .mapping, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    /// The upper `count` pages of a gap of `count + 1`.
    public func findGap(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        base.findGap(count: count + 1, within: within, hint: hint).map { PageRange($0.start + 1, $0.end) }
    }
}
