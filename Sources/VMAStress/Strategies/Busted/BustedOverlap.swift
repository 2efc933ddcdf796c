/// mmap takes the hinted range without looking for VMAs already there
/// (MAP_FIXED without the implicit munmap): the index gets overlapping VMAs.
public struct BustedOverlap: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-overlap",
        summary: "mmap maps over existing VMAs without unmapping them (overlaps in the index)",
        origin: "MAP_FIXED handling that skips do_munmap",
        breaks: .tree, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    public func findGap(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        guard count <= within.count else { return nil }
        return PageRange(start: min(max(hint, within.start), within.end - count), count: count)
    }
}
