import Synchronization

/// A strategy as the harness runs it: its info and a runner specialised for
/// its type (built in a generic context with the concrete type known, so the
/// worker loops are specialised and the fault path calls no witness table).
/// Strategies whose readers use liburcu are generic over the flavor; their
/// runner opens `--rcu-flavor` into the concrete type first.
public struct StrategyEntry: Sendable {
    public let info: StrategyInfo
    /// What it can do: its info's, and what its type shows (lockless,
    /// anonymous-only, a type-safe cache).
    public let capabilities: Capabilities
    /// The liburcu flavors it is built for: all of them for a strategy
    /// family, memb alone for a twin built on memb only (each flavor is one
    /// more specialised copy of the worker loops to compile), none without RCU.
    public let flavors: [RCUFlavorKind]
    let runner: @Sendable (RunPlan) throws -> RunResult

    public init<S: Strategy>(_: S.Type) {
        info = S.info
        capabilities = S.info.capabilities.union(Self.stepCapabilities(S.self))
        flavors = S.info.usesRCU ? [.memb] : []
        runner = { plan in try Runner.run(S.self, plan) }
    }

    public init<Family: RCUStrategyFamily>(rcu _: Family.Type) {
        info = Family.info
        capabilities = Family.info.capabilities.union(Self.stepCapabilities(Family.Member.self))
        flavors = RCUFlavorKind.allCases
        runner = { plan in try plan.config.rcuFlavor.visit(FamilyRunner<Family>(plan: plan)) }
    }

    static func stepCapabilities<S: Strategy>(_: S.Type) -> Capabilities {
        guard let steps = S.self as? any LocklessSteps.Type else { return [] }
        return Capabilities.lockless
            .union(steps.anonymousOnly ? .anonymousOnly : [])
            .union(steps.typeSafeVMAs ? .typeSafeCache : [])
    }

    public var isLockless: Bool { capabilities.contains(.lockless) }
    public var isAnonymousOnly: Bool { capabilities.contains(.anonymousOnly) }
    public var isTypeSafe: Bool { capabilities.contains(.typeSafeCache) }

    func run(_ plan: RunPlan) throws -> RunResult { try runner(plan) }
}

/// A strategy generic over the RCU flavor, named without one: `run` builds
/// the concrete type for the flavor a run asks for. `Member` is the family
/// on one flavor, for what does not depend on it (its info).
public protocol RCUStrategyFamily: SendableMetatype {
    associatedtype Member: Strategy
    static func run<F: RCUFlavor>(_: F.Type, _ plan: RunPlan) throws -> RunResult
}

extension RCUStrategyFamily {
    static var info: StrategyInfo { Member.info }
}

struct FamilyRunner<Family: RCUStrategyFamily>: RCUFlavorVisitor {
    let plan: RunPlan
    func visit<F: RCUFlavor>(_ flavor: F.Type) throws -> RunResult { try Family.run(flavor, plan) }
}

/// Every strategy, correct ones first, then the busted twins (one table, as
/// in rcutorture), then what other code registered. Twins whose readers use
/// RCU are built on memb alone: a twin proves the checker sees its bug
/// class, which no flavor changes.
public enum StrategyRegistry {
    static let builtIn: [StrategyEntry] = [
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

    private static let added = Mutex<[StrategyEntry]>([])

    /// Adds a strategy from outside the library (a package that depends on
    /// it, a test target): from then on `run`, `soak`, suites and listings
    /// see it as one of their own. A name already taken is refused.
    public static func register(_ entry: StrategyEntry) throws {
        try added.withLock { added in
            guard !(builtIn + added).contains(where: { $0.info.name == entry.info.name }) else {
                throw RunConfig.Invalid(description: "strategy '\(entry.info.name)' is already registered")
            }
            added.append(entry)
        }
    }

    /// Takes back what `register` added (a test's own strategy, once its test is done).
    public static func unregister(_ name: String) {
        added.withLock { $0.removeAll { $0.info.name == name } }
    }

    public static var all: [StrategyEntry] { builtIn + added.withLock { $0 } }
    public static var correct: [StrategyEntry] { all.filter { !$0.info.isBusted } }
    public static var busted: [StrategyEntry] { all.filter { $0.info.isBusted } }

    /// The one lookup by name: the command line's, a suite's, a results
    /// file's words become an entry here; everything after takes the entry.
    public static func named(_ name: String) -> StrategyEntry? {
        all.first { $0.info.name == name }
    }

    /// A suite's strategy item: a name, or `NAME-processes` for a strategy
    /// whose faulters can run in processes (`Capabilities.processes`).
    public static func suiteItem(_ item: String) -> (entry: StrategyEntry, processes: Bool)? {
        if let e = named(item) { return (e, false) }
        guard item.hasSuffix(processesSuffix), let e = named(String(item.dropLast(processesSuffix.count))),
              e.capabilities.contains(.processes) else { return nil }
        return (e, true)
    }

    public static let processesSuffix = "-processes"

    /// Whether a result's strategy item is the host's own (its cells show
    /// the host's drift between invocations).
    public static func isHostReference(_ item: String) -> Bool {
        suiteItem(item)?.entry.capabilities.contains(.realMappings) == true
    }
}

enum SPFRCUFamily: RCUStrategyFamily {
    typealias Member = SPFRCU<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ plan: RunPlan) throws -> RunResult { try Runner.run(SPFRCU<F>.self, plan) }
}

enum PerVMALockFamily: RCUStrategyFamily {
    typealias Member = PerVMALock<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ plan: RunPlan) throws -> RunResult { try Runner.run(PerVMALock<F>.self, plan) }
}

enum PerVMARefcountFamily: RCUStrategyFamily {
    typealias Member = PerVMARefcount<MembRCU>
    static func run<F: RCUFlavor>(_: F.Type, _ plan: RunPlan) throws -> RunResult { try Runner.run(PerVMARefcount<F>.self, plan) }
}
