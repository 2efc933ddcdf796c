/// A strategy as the harness runs it: its info and a runner specialised for
/// its type (built in a generic context with the concrete type known, so the
/// worker loops are specialised and the fault path calls no witness table).
/// Strategies whose readers use liburcu are generic over the flavor; their
/// runner opens `--rcu-flavor` into the concrete type first.
public struct StrategyEntry: Sendable {
    public let info: StrategyInfo
    let runner: @Sendable (RunConfig) throws -> RunResult

    public init<S: Strategy>(_: S.Type) {
        info = S.info
        runner = { try Runner.run(S.self, $0) }
    }

    public init<Family: RCUStrategyFamily>(rcu _: Family.Type) {
        info = Family.info
        runner = { config in try config.rcuFlavor.visit(FamilyRunner<Family>(config: config)) }
    }

    public func run(_ config: RunConfig) throws -> RunResult { try runner(config) }
}

/// A strategy generic over the RCU flavor, named without one: `run` builds
/// the concrete type for the flavor a run asks for.
public protocol RCUStrategyFamily: SendableMetatype {
    static var info: StrategyInfo { get }
    static func run<F: RCUFlavor>(_: F.Type, _ config: RunConfig) throws -> RunResult
}

struct FamilyRunner<Family: RCUStrategyFamily>: RCUFlavorVisitor {
    let config: RunConfig
    func visit<F: RCUFlavor>(_ flavor: F.Type) throws -> RunResult { try Family.run(flavor, config) }
}

/// Every strategy, correct ones first, then the busted twins (one table, as in rcutorture).
public enum StrategyRegistry {
    public static let all: [StrategyEntry] = [
        StrategyEntry(NoSync.self),
        StrategyEntry(MMapLock.self),
        StrategyEntry(SPFSRCU.self),
        StrategyEntry(SPFRWLock.self),
        StrategyEntry(rcu: SPFRCUFamily.self),
        StrategyEntry(rcu: PerVMALockFamily.self),
        StrategyEntry(BustedNoZap.self),
        StrategyEntry(BustedOverlap.self),
        StrategyEntry(BustedLeak.self),
        StrategyEntry(BustedBounds.self),
        StrategyEntry(BustedFreeNoGracePeriod.self),
        StrategyEntry(BustedSRCUEarlyCallback.self),
        StrategyEntry(BustedUnsequencedWrite.self),
        StrategyEntry(rcu: BustedNoRecheckFamily.self),
        StrategyEntry(BustedLostPut.self),
        StrategyEntry(rcu: BustedStoreUnlockedFamily.self),
        StrategyEntry(rcu: BustedMissingEndReadFamily.self),
        StrategyEntry(BustedUnmappedArea.self),
        StrategyEntry(rcu: BustedNodeFreeNoGracePeriodFamily.self),
    ]

    public static var correct: [StrategyEntry] { all.filter { !$0.info.isBusted } }
    public static var busted: [StrategyEntry] { all.filter { $0.info.isBusted } }

    public static func named(_ name: String) -> StrategyEntry? {
        all.first { $0.info.name == name }
    }
}

enum SPFRCUFamily: RCUStrategyFamily {
    static var info: StrategyInfo { SPFRCU<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(SPFRCU<F>.self, c) }
}

enum PerVMALockFamily: RCUStrategyFamily {
    static var info: StrategyInfo { PerVMALock<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(PerVMALock<F>.self, c) }
}

enum BustedNoRecheckFamily: RCUStrategyFamily {
    static var info: StrategyInfo { BustedNoRecheck<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(BustedNoRecheck<F>.self, c) }
}

enum BustedStoreUnlockedFamily: RCUStrategyFamily {
    static var info: StrategyInfo { BustedStoreUnlocked<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(BustedStoreUnlocked<F>.self, c) }
}

enum BustedMissingEndReadFamily: RCUStrategyFamily {
    static var info: StrategyInfo { BustedMissingEndRead<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(BustedMissingEndRead<F>.self, c) }
}

enum BustedNodeFreeNoGracePeriodFamily: RCUStrategyFamily {
    static var info: StrategyInfo { BustedNodeFreeNoGracePeriod<MembRCU>.info }
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(BustedNodeFreeNoGracePeriod<F>.self, c) }
}
