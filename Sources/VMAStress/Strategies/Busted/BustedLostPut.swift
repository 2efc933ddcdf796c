/// The fault takes a VMA reference (vma_get) and the access-error exit returns
/// without vma_put: the count creeps above the tree's one reference.
public struct BustedLostPut: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-lost-put",
        summary: "the fault's access-error exit forgets vma_put after vma_get",
        origin: "a missing put on an abort path (SPF v9-v12 review rounds)",
        breaks: .ref, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        mm.mmapLock.readLock()
        defer { mm.mmapLock.readUnlock() }
        guard let v = mm.index.find(page) else { return .noVMA }
        v.pointee.refs.get()
        guard v.prot.contains(.access(write: write)) else { return .accessDenied }
        let result = mm.installPTE(page, gen: v.gen, write: write)
        if v.pointee.refs.put() == .underflow { mm.noteRefUnderflow(v) }
        return result
    }
}
