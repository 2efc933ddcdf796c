import Testing
@testable import VMAStress

@Suite("Runs end to end", .serialized)
struct IntegrationTests {
    @Test func mmapLockWithTwoFaultersAndAMutatorIsCleanAndDoesEverything() throws {
        let config = RunConfig(strategy: "mmap-lock", faulters: 2, mutators: 1, durationSeconds: 3,
                               warmupSeconds: 0.5, seed: 11, checkpointIntervalSeconds: 0.5)
        try config.validate()
        let r = try Runner.run(config)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.checker.violationCount == 0)
        #expect(r.checker.checkpoints >= 3)
        for op in OpKind.allCases {
            #expect((r.op(op)?.count ?? 0) > 0, "no \(op.name) done")
        }
        #expect((r.faultOutcomes["installed"] ?? 0) > 0)
        #expect((r.faultOutcomes["segv-no-vma"] ?? 0) > 0)
        #expect(r.store.vmaAllocations > r.store.vmaFrees)
        #expect(r.op(.fault)!.latencyNs.samples > 0)
    }

    @Test func noneRunsOneThreadCleanly() throws {
        let config = RunConfig(strategy: "none", faulters: 1, mutators: 0, durationSeconds: 1,
                               warmupSeconds: 0.2, seed: 5, checkpointIntervalSeconds: 0.3)
        let r = try Runner.run(config)
        #expect(r.verdict == .success)
        #expect(r.op(.fault)!.count > 0)
    }

    @Test func noneRejectsASecondWorker() throws {
        let config = RunConfig(strategy: "none", faulters: 1, mutators: 0, durationSeconds: 0.5,
                               warmupSeconds: 0, seed: 5)
        var bad = config
        bad.mutators = 1
        #expect(throws: RunConfig.Invalid.self) { try bad.validate() }
        #expect(try Runner.run(config).verdict == .success)
    }
}

/// Every busted twin is caught, and the report names the invariant it breaks.
@Suite("The checker catches every busted twin", .serialized)
struct BustedTwinTests {
    /// A twin that deadlocks (STALL) leaves its threads stuck: the CLI tests run it in a process of its own.
    static let twins = StrategyRegistry.busted.filter { $0.info.breaks != .stall }.map { $0.info.name }

    @Test(arguments: twins)
    func caught(_ name: String) throws {
        let info = StrategyRegistry.named(name)!.info
        // Fields changed outside the seqcount also let faults act on old ones,
        // and a page mapped past a churn VMA is a stale PTE too, so STALE-PTE
        // may be reported first: count a few seconds of reports.
        let torn = info.breaks == .torn || name == "busted-bounds"
        for seed: UInt64 in [1, 2] {
            var config = RunConfig(strategy: name, faulters: 2, mutators: 1, durationSeconds: torn ? 3 : 10,
                                   warmupSeconds: 0, seed: seed, checkpointIntervalSeconds: 0.2, keepGoing: torn)
            info.caughtWith?.apply(to: &config)
            try config.validate()
            let r = try Runner.run(config)
            #expect(r.verdict == .failure, "\(name) seed \(seed) was not caught")
            // A VMA freed before its grace period is seen as freed (UAF) or as
            // two grace periods old (PIPE), whichever check a reader reaches first.
            let early: Set<Invariant> = [.uaf, .pipe]
            let names = { (i: Invariant) in i == info.breaks || early.contains(i) && early.contains(info.breaks!) }
            #expect(r.violations.contains { names($0.invariant) }, "\(name) should break \(info.breaks!.rawValue)")
            let first = try #require(r.violations.first)
            if torn { continue }
            #expect(names(first.invariant), "first report: \(first.text)")
            #expect(first.strategy == name && first.seed == seed)
            #expect(first.reproduce.hasPrefix("vmastress run --strategy \(name) "))
            // Stopped at the first violation, not at the end of the duration.
            #expect(r.wallSeconds < 9.5, "\(name) took \(r.wallSeconds) s to catch")
        }
    }

    /// `--vmas N`: the churn region starts with exactly N VMAs, none merged,
    /// the churn region grown to hold them; the reproducer carries the option.
    @Test(arguments: ["mmap-lock", "per-vma-refcount"])
    func startsWithTheVMAsAskedFor(_ strategy: String) throws {
        var c = RunConfig(strategy: strategy, faulters: 1, mutators: 0, durationSeconds: 0.3, warmupSeconds: 0, seed: 5)
        c.vmas = 20_000
        c.layout = c.layout.holding(vmas: c.vmas)
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.store.vmasAtEnd == 20_001, "the stable region's VMA and the 20000 placed")
        #expect(c.layout.churnPages == 80_000 && r.reproduce.contains("--vmas 20000") && !r.reproduce.contains("--churn-pages"))
    }

    /// take-all-locks costs time linear in the VMAs: past 4,096 the other mutations weigh that many times more.
    @Test func takeAllLocksKeepsItsShareOfTimeInLargeAddressSpaces() {
        let m = OpMix()
        #expect(m.scaledForTakeAllLocks(vmas: nil).mmapWeight == m.mmapWeight)
        #expect(m.scaledForTakeAllLocks(vmas: 4096).mmapWeight == m.mmapWeight)
        let big = m.scaledForTakeAllLocks(vmas: 65_530)
        #expect(big.mmapWeight == 16 * m.mmapWeight && big.mremapWeight == 16 * m.mremapWeight
                    && big.takeAllLocksWeight == m.takeAllLocksWeight)
    }
}
