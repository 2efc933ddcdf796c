/// A strategy as the harness runs it: its info and a runner specialised for
/// its type (built in a generic context with the concrete type known, so the
/// worker loops are specialised and the fault path calls no witness table).
/// Strategies whose readers use liburcu are generic over the flavor; their
/// runner opens `--rcu-flavor` into the concrete type first.
public struct StrategyEntry: Sendable {
    public let info: StrategyInfo
    /// Its fault is `locklessFault` over its `LocklessSteps`.
    public let isLockless: Bool
    /// Its lockless path falls back on file-backed VMAs (`LocklessSteps.anonymousOnly`).
    public let isAnonymousOnly: Bool
    /// Its VMAs go back to a type-safe cache at once (`LocklessSteps.typeSafeVMAs`): REUSE is checked.
    public let isTypeSafe: Bool
    /// The liburcu flavors it is built for: all of them for a strategy
    /// family, memb alone for a twin built on memb only (each flavor is one
    /// more specialised copy of the worker loops to compile), none without RCU.
    public let flavors: [RCUFlavorKind]
    let runner: @Sendable (RunConfig) throws -> RunResult

    public init<S: Strategy>(_: S.Type) {
        info = S.info
        isLockless = S.self is any LocklessSteps.Type
        isAnonymousOnly = (S.self as? any LocklessSteps.Type)?.anonymousOnly ?? false
        isTypeSafe = (S.self as? any LocklessSteps.Type)?.typeSafeVMAs ?? false
        flavors = S.info.usesRCU ? [.memb] : []
        runner = { config in
            var c = config
            // The kernel does its own fault work.
            if S.info.isKernel { c.faultWork = .none }
            return try Runner.run(S.self, c)
        }
    }

    public init<Family: RCUStrategyFamily>(rcu _: Family.Type) {
        info = Family.info
        isLockless = Family.Member.self is any LocklessSteps.Type
        isAnonymousOnly = (Family.Member.self as? any LocklessSteps.Type)?.anonymousOnly ?? false
        isTypeSafe = (Family.Member.self as? any LocklessSteps.Type)?.typeSafeVMAs ?? false
        flavors = RCUFlavorKind.allCases
        runner = { config in try config.rcuFlavor.visit(FamilyRunner<Family>(config: config)) }
    }

    public func run(_ config: RunConfig) throws -> RunResult { try runner(config) }
}

/// A strategy generic over the RCU flavor, named without one: `run` builds
/// the concrete type for the flavor a run asks for. `Member` is the family
/// on one flavor, for what does not depend on it (its info).
public protocol RCUStrategyFamily: SendableMetatype {
    associatedtype Member: Strategy
    static func run<F: RCUFlavor>(_: F.Type, _ config: RunConfig) throws -> RunResult
}

extension RCUStrategyFamily {
    static var info: StrategyInfo { Member.info }
}

struct FamilyRunner<Family: RCUStrategyFamily>: RCUFlavorVisitor {
    let config: RunConfig
    func visit<F: RCUFlavor>(_ flavor: F.Type) throws -> RunResult { try Family.run(flavor, config) }
}

/// Every strategy, correct ones first, then the busted twins (one table, as
/// in rcutorture). Twins whose readers use RCU are built on memb alone: a
/// twin proves the checker sees its bug class, which no flavor changes.
public enum StrategyRegistry {
    public static let all: [StrategyEntry] = [
        StrategyEntry(NoSync.self),
        StrategyEntry(MMapLock.self),
        StrategyEntry(SPFSRCU.self),
        StrategyEntry(SPFRWLock.self),
        StrategyEntry(rcu: SPFRCUFamily.self),
        StrategyEntry(rcu: PerVMALockFamily.self),
        StrategyEntry(rcu: PerVMARefcountFamily.self),
        StrategyEntry(Kernel.self),
        StrategyEntry(BustedNoZap.self),
        StrategyEntry(BustedOverlap.self),
        StrategyEntry(BustedLeak.self),
        StrategyEntry(BustedBounds.self),
        StrategyEntry(BustedFreeNoGracePeriod.self),
        StrategyEntry(BustedSRCUEarlyCallback.self),
        StrategyEntry(BustedUnsequencedWrite.self),
        StrategyEntry(BustedNoRecheck<MembRCU>.self),
        StrategyEntry(BustedLostPut.self),
        StrategyEntry(BustedStoreUnlocked<MembRCU>.self),
        StrategyEntry(BustedMissingEndRead<MembRCU>.self),
        StrategyEntry(BustedUnmappedArea.self),
        StrategyEntry(BustedNodeFreeNoGracePeriod<MembRCU>.self),
        StrategyEntry(BustedKernelLazyMunmap.self),
        StrategyEntry(BustedNoRangeCheck<MembRCU>.self),
        StrategyEntry(BustedWalkNotReset<MembRCU>.self),
        StrategyEntry(BustedForeignPutUnpinned<MembRCU>.self),
        StrategyEntry(BustedForeignMMLeak<MembRCU>.self),
        StrategyEntry(BustedNoForeignCheck<MembRCU>.self),
    ]

    public static var correct: [StrategyEntry] { all.filter { !$0.info.isBusted } }
    public static var busted: [StrategyEntry] { all.filter { $0.info.isBusted } }

    public static func named(_ name: String) -> StrategyEntry? {
        all.first { $0.info.name == name }
    }
}

enum SPFRCUFamily: RCUStrategyFamily {
    typealias Member = SPFRCU<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(SPFRCU<F>.self, c) }
}

enum PerVMALockFamily: RCUStrategyFamily {
    typealias Member = PerVMALock<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(PerVMALock<F>.self, c) }
}

enum PerVMARefcountFamily: RCUStrategyFamily {
    typealias Member = PerVMARefcount<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ c: RunConfig) throws -> RunResult { try Runner.run(PerVMARefcount<F>.self, c) }
}
