/// `mmap-lock`: the classic design. Faults hold mmap_lock for read; every
/// mutation holds it for write; VMAs are freed at once.
public struct MMapLock: Strategy {
    public static let info = StrategyInfo(
        name: "mmap-lock",
        summary: "faults read-lock mmap_lock, mutations write-lock it; immediate free",
        origin: "Linux before 6.4 (mmap_sem, renamed mmap_lock in 5.8)")

    public let mm: MM
    public init(mm: MM) { self.mm = mm }

    public func mmWriteLock() { mm.mmapLock.writeLock() }
    public func mmWriteUnlock() { mm.mmapWriteUnlock() }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        mm.mmapLock.readLock()
        defer { mm.mmapLock.readUnlock() }
        ctx.delay(.afterLookup)
        return mm.faultLocked(page, write: write)
    }
}
