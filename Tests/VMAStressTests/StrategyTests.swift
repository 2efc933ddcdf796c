import Testing
@testable import VMAStress

/// The lockless strategies end to end: clean under faulters and mutators,
/// on every tree they allow and every liburcu flavor, with their fault
/// paths actually taken.
@Suite("Lockless strategies end to end", .serialized)
struct StrategyTests {
    static let lockless = StrategyRegistry.correct.filter(\.isLockless).map(\.info.name)

    @Test func theRegistryListsTheLocklessStrategies() {
        #expect(Set(Self.lockless).isSuperset(of: ["spf-srcu", "spf-rwlock", "spf-rcu", "per-vma-lock"]))
        #expect(!Self.lockless.contains("mmap-lock") && !Self.lockless.contains("none"))
    }

    @Test(arguments: lockless)
    func cleanWithTwoFaultersAndTwoMutators(_ name: String) throws {
        let config = RunConfig(strategy: name, faulters: 2, mutators: 2, durationSeconds: 2, warmupSeconds: 0.3,
                               seed: 7, checkpointIntervalSeconds: 0.3)
        try config.validate()
        let r = try Runner.run(config)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.checker.checkpoints >= 3)
        for op in OpKind.allCases { #expect((r.op(op)?.count ?? 0) > 0, "\(name): no \(op.name) done") }
        let attempts = r.faultEvents["spf-attempt"] ?? 0, successes = r.faultEvents["spf-success"] ?? 0
        #expect(successes > 0 && successes <= attempts)
        #expect(r.faultEvents["fallback"] ?? 0 > 0, "guard faults always fall back to mmap_lock")
        #expect(r.readerPipe?.dropFirst(2).allSatisfy { $0 == 0 } == true)
        // A type-safe cache has no grace period before reuse for PIPE to count: REUSE instead.
        let typeSafe = r.capabilities?.contains(.typeSafeCache) == true
        #expect(r.checker.invariantsChecked.contains(.uaf) && r.checker.invariantsChecked.contains(typeSafe ? .reuse : .pipe))
        for i in r.checker.invariantsChecked { #expect((r.checker.evaluations?[i] ?? 0) > 0, "\(name): \(i.rawValue) never evaluated") }
    }

    static let flavorRuns: [(String, RCUFlavorKind)] = StrategyRegistry.correct.filter(\.info.usesRCU).map(\.info.name).flatMap { s in
        RCUFlavorKind.allCases.filter { $0 != .memb }.map { (s, $0) }
    }

    @Test(arguments: flavorRuns)
    func cleanOnEveryRCUFlavor(_ name: String, _ flavor: RCUFlavorKind) throws {
        let config = RunConfig(strategy: name, faulters: 2, mutators: 1, durationSeconds: 1, warmupSeconds: 0.2,
                               seed: 3, checkpointIntervalSeconds: 0.25, rcuFlavor: flavor)
        let r = try Runner.run(config)
        #expect(r.verdict == .success, "\(name) on \(flavor): \(r.violations.map(\.text))")
        #expect(r.checker.checkpoints >= 2)
        // A type-safe cache frees VMAs at once; the others defer them.
        if StrategyRegistry.named(name)!.isTypeSafe {
            #expect(r.deferredFree == nil && r.store.vmaFrees > 0)
        } else {
            #expect((r.deferredFree?.retired ?? 0) > 0)
        }
        #expect(r.reproduce.contains("--rcu-flavor \(flavor.rawValue)"))
    }

    /// Each correct strategy on the trees besides its default (`none` runs one worker, so not here).
    static let otherTrees: [(String, IndexKind)] = StrategyRegistry.correct.filter { $0.info.maxWorkers == nil }
        .flatMap { e in e.info.indexes.dropFirst().map { (e.info.name, $0) } }

    @Test(arguments: otherTrees)
    func cleanOnTheirOtherTree(_ name: String, _ index: IndexKind) throws {
        let config = RunConfig(strategy: name, faulters: 2, mutators: 1, durationSeconds: 1.5, warmupSeconds: 0.2,
                               seed: 4, checkpointIntervalSeconds: 0.25, index: index)
        try config.validate()
        let r = try Runner.run(config)
        #expect(r.verdict == .success, "\(name) on \(index): \(r.violations.map(\.text))")
        #expect(r.index == index)
        #expect(r.reproduce.contains("--index \(index.rawValue)"))
    }

    @Test func treesAStrategyIsNotCorrectOnAreRejected() {
        for e in StrategyRegistry.all {
            for index in IndexKind.allCases where !e.info.indexes.contains(index) {
                let config = RunConfig(strategy: e.info.name, index: index)
                #expect(throws: RunConfig.Invalid.self) { try config.validate() }
            }
        }
        for (name, index) in [("spf-srcu", IndexKind.btree), ("per-vma-lock", .rbtree)] {
            let config = RunConfig(strategy: name, index: index)
            #expect(throws: RunConfig.Invalid.self) { try config.validate() }
        }
    }
}
