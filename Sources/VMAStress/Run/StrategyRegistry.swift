/// A strategy as the harness runs it: its info and a runner specialised for
/// its type (built in a generic context with the concrete type known, so the
/// worker loops are specialised and the fault path calls no witness table).
public struct StrategyEntry: Sendable {
    public let info: StrategyInfo
    let runner: @Sendable (RunConfig) throws -> RunResult

    public init<S: Strategy>(_: S.Type) {
        info = S.info
        runner = { try Runner.run(S.self, $0) }
    }

    public func run(_ config: RunConfig) throws -> RunResult { try runner(config) }
}

/// Every strategy, correct ones first, then the busted twins (one table, as in rcutorture).
public enum StrategyRegistry {
    public static let all: [StrategyEntry] = [
        StrategyEntry(NoSync.self),
        StrategyEntry(MMapLock.self),
        StrategyEntry(BustedNoZap.self),
        StrategyEntry(BustedOverlap.self),
        StrategyEntry(BustedLeak.self),
        StrategyEntry(BustedLostPut.self),
        StrategyEntry(BustedBounds.self),
    ]

    public static var correct: [StrategyEntry] { all.filter { !$0.info.isBusted } }
    public static var busted: [StrategyEntry] { all.filter { $0.info.isBusted } }

    public static func named(_ name: String) -> StrategyEntry? {
        all.first { $0.info.name == name }
    }
}
