/// munmap unlinks and zaps a VMA but never drops the tree's reference, so the record is never freed.
public struct BustedLeak: BustedTwin {
    public static let info = StrategyInfo(
        name: "busted-leak",
        summary: "a removed VMA's tree reference is never dropped, so its record is never freed",
        origin: "a lost vm_area_free on an unmap path",
        breaks: .leak, base: MMapLock.info.name)

    public let base: MMapLock
    public init(mm: MM) { base = MMapLock(mm: mm) }

    public func vmaRetire(_ v: VMAPtr) {}
}
