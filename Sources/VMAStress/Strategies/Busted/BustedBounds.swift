/// The fault's bounds check accepts `addr == vm_end`: the page just past a VMA faults in.
public struct BustedBounds: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-bounds",
        summary: "the fault's bounds check uses addr <= vm_end, so the page past a VMA maps",
        origin: "an off-by-one in find_vma's caller",
        breaks: .stable, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        mm.mmapLock.readLock()
        defer { mm.mmapLock.readUnlock() }
        guard let v = mm.list.first(endingAfter: page &- 1), v.start <= page else { return .noVMA }
        guard v.prot.contains(.access(write: write)) else { return .accessDenied }
        return mm.installPTE(page, gen: v.gen, write: write)
    }
}
