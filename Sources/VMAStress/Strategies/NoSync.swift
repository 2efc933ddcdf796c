/// `none`: no synchronisation at all, for one thread. The floor every other
/// strategy's fault cost is measured against.
public struct NoSync: Strategy {
    public static let info = StrategyInfo(
        name: "none",
        summary: "no synchronisation; one worker thread; the cost floor",
        origin: "baseline",
        maxWorkers: 1)

    public let mm: MM
    public init(mm: MM) { self.mm = mm }

    public func mmWriteLock() {}
    public func mmWriteUnlock() {}

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        mm.faultLocked(page, write: write)
    }
}
