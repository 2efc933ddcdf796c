/// spf-rwlock whose abort paths forget vma_put after vma_get: the count
/// creeps above the tree's one reference and the VMA is never freed.
public struct BustedLostPut: BustedLocklessTwin {
    public static let info = SPFRWLock.info.twin(
        name: "busted-lost-put",
        summary: "spf-rwlock's speculative abort path returns without vma_put",
        origin: "a missing put on an abort path (SPF v9-v12 review rounds)",
        breaks: .ref)

    public let base: SPFRWLock
    public init(mm: MM) { base = SPFRWLock(mm: mm) }

    /// The broken step: vma_put only on success.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { if !aborted { base.unpin(v, aborted: false) } }
}
