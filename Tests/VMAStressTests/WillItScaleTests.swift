import Foundation
import Testing
@testable import VMAStress

/// will-it-scale's testcases as workloads, counted as it counts, and the
/// benchmark settings that make cells hold still.
@Suite("will-it-scale workloads and steady benchmarks", .serialized)
struct WillItScaleTests {
    static let testcases: [Workload] = [.pageFault1, .pageFault2, .pageFault3, .mmap1, .mmap2, .brk1]

    /// Each testcase runs on the model, clean, and counts what will-it-scale counts.
    @Test(arguments: testcases)
    func theModelRunsEachTestcase(_ workload: Workload) throws {
        var c = RunConfig(strategy: "per-vma-lock", faulters: 2, mutators: 0, durationSeconds: 0.4, warmupSeconds: 0.1, seed: 8,
                          checkpointIntervalSeconds: 0.2, layout: Layout.sized(for: workload, faulters: 2))
        c.workload = workload
        c.mix = workload.mix
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(workload.rawValue): \(r.violations.map(\.text))")
        let rate = { (k: OpKind) in r.op(k)?.opsPerSecond ?? 0 }
        switch workload.spec.counted {
        case .faults:
            #expect(r.countedOpsPerSecond == rate(.fault) && rate(.fault) > 0)
            // One fault per page of each 128 MiB mapping (a faulter's first chunk may have begun in the warm-up).
            #expect((r.op(.fault)?.count ?? 0) >= Workload.willItScalePages * ((r.op(.munmap)?.count ?? 0) - 2))
        case .mmaps:
            #expect(r.countedOpsPerSecond == rate(.mmap) && rate(.mmap) > 0 && (r.op(.fault)?.count ?? 0) == 0)
        case .mappings:
            #expect(r.countedOpsPerSecond == rate(.mmap) + rate(.munmap) && rate(.munmap) > 0)
        }
    }

    /// The default layout gives each faulter a 128 MiB chunk on a page-table boundary and a gap.
    @Test func theLayoutGrowsForTheTestcases() {
        #expect(Layout.sized(for: .stress, faulters: 8) == Layout())
        let l = Layout.sized(for: .pageFault1, faulters: 3)
        #expect(l.churnPages == 3 * (Workload.willItScalePages + 2 * UInt64(PageTable.ptesPerTable)))
        var c = RunConfig(strategy: "mmap-lock", faulters: 3, mutators: 0, layout: l)
        c.workload = .pageFault1
        c.mix = Workload.pageFault1.mix
        #expect(!c.commandLine.contains("--churn-pages"), "the workload's own size needs no option")
        c.layout.churnPages += 1
        #expect(c.commandLine.contains("--churn-pages"))
        #expect(!Workload.soakDefault.contains(.pageFault1) && Workload.soakDefault.contains(.brk1))
    }

    /// A paced mutator never runs faster than asked (an upper bound holds on a busy machine too).
    @Test func aMutationRateIsAnUpperBound() throws {
        var c = RunConfig(strategy: "mmap-lock", faulters: 1, mutators: 2, durationSeconds: 1, warmupSeconds: 0.2, seed: 3)
        c.mutationRate = 200
        try c.validate()
        #expect(c.commandLine.contains("--mutation-rate 200"))
        let r = try Runner.run(c)
        #expect(r.verdict == .success)
        let mutations = OpKind.mutations.reduce(UInt64(0)) { $0 + (r.op($1)?.count ?? 0) + (r.op($1)?.failed ?? 0) }
        #expect(mutations > 0 && Double(mutations) <= 2 * 200 * r.measuredSeconds * 1.1 + 4, "\(mutations) in \(r.measuredSeconds) s")
        for bad in [-1.0, 0.5, 1e8] {
            c.mutationRate = bad
            #expect(throws: RunConfig.Invalid.self) { try c.validate() }
        }
    }

    @Test func suitesTakeTheProcessesColumnAndTheSteadinessKeys() throws {
        let s = try Suite.parse("""
            strategies = kernel, kernel-processes, mmap-lock
            workloads = page_fault1, brk1
            mutation-rate = 500
            max-repetitions = 7
            spread = 10%
            """, file: "w.suite", name: "w")
        #expect(s.mutationRate == 500 && s.maxRepetitions == 7 && s.spreadLimit == 0.1)
        let c = try s.config(strategy: "kernel-processes", workload: s.workloads[0], threads: 2, repetition: 0)
        #expect(c.strategy == "kernel" && c.processes && c.layout == Layout.sized(for: .pageFault1, faulters: 2))
        #expect(try s.config(strategy: "mmap-lock", workload: s.workloads[1], threads: 1, repetition: 0).mutationRate == 500)
        for bad in ["spread = 10\n", "mutation-rate = fast\n", "max-repetitions = 0\n"] {
            #expect(throws: Suite.ParseError.self) { try Suite.parse(bad, file: "x", name: "x") }
        }
        // ebizzy's faulters search several chunks: not a processes workload.
        #expect(throws: Suite.ParseError.self) {
            try Suite.parse("strategies = kernel-processes, mmap-lock\nworkloads = ebizzy\n", file: "x", name: "x")
        }
    }

    /// The spread that decides on more repetitions sets outliers aside; more repetitions stop at the cap;
    /// the cell is reported over the runs nearest its median.
    @Test func noisyCellsGetMoreRepetitionsUpToTheCap() {
        let s = Stat([100, 101, 99, 60, 140], higherIsBetter: true)
        #expect(s.relativeSpread == 0.8)
        #expect(s.coreSpread(3) == 0.02)
        var suite = Suite(name: "x")
        suite.repetitions = 3
        suite.spreadLimit = 0.1
        suite.maxRepetitions = 5
        func runs(_ rates: [Double]) -> [Double] { rates }
        #expect(suite.wantsMore(runs([100, 60, 140]), after: 3))
        #expect(!suite.wantsMore(runs([100, 101, 99]), after: 3))
        #expect(!suite.wantsMore(runs([100, 60, 140, 100, 30]), after: 5), "the cap")
        // A cell given more is reported over the suite's repetitions nearest its median.
        #expect(suite.keptRuns([100, 60, 140, 101, 99]) == [0, 3, 4])
        #expect(suite.keptRuns([100, 60, 140]) == [0, 1, 2], "no extra runs, nothing set aside")
        suite.spreadLimit = nil
        #expect(!suite.wantsMore(runs([100, 60, 140]), after: 3), "no limit, no more")
        #expect(suite.keptRuns([100, 60, 140, 101, 99]) == [0, 1, 2, 3, 4], "no limit, every run")
    }

    /// Percent of linear only between cells that differ in their faulters alone;
    /// the kernel's threads and processes in will-it-scale's table.
    @Test func scalingTablesSayWhatTheyCanCompare() {
        func cell(_ w: String, _ t: Int, _ s: String, _ ops: Double, mutators: Int = 0) -> BenchCell {
            BenchCell(workload: w, threads: t, strategy: s, faulters: t, mutators: mutators, repetitions: 1,
                      metrics: [BenchMetric.opsPerSecond.rawValue: Stat([ops], higherIsBetter: true)],
                      ratioToBaseline: nil, verdict: .success, faultLatencyCurve: [], reproduce: [])
        }
        let cells = [cell("stress", 1, "mmap-lock", 100, mutators: 1), cell("stress", 2, "mmap-lock", 150, mutators: 1),
                     cell("page_fault1", 1, "kernel", 90), cell("page_fault1", 2, "kernel", 150),
                     cell("page_fault1", 1, "kernel-processes", 100), cell("page_fault1", 2, "kernel-processes", 190)]
        let rows = BenchResult.scaling(cells)
        #expect(rows.first { $0.workload == "stress" }?.points.allSatisfy { $0.percentOfLinear == nil } == true)
        #expect(rows.first { $0.workload == "page_fault1" && $0.strategy == "kernel" }?.points.last?.percentOfLinear
            == 100.0 * 150 / 180)
        var r = BenchResult(tool: "t", createdAt: "now", machine: .current(), suite: Suite(name: "t"), complete: true,
                            interruptedBy: nil, elapsedSeconds: 1, cells: cells, scaling: rows)
        r.suite.baseline = "kernel"
        let table = BenchReport.willItScale(r)
        #expect(table.map(\.workload) == ["page_fault1"])
        #expect(table.first?.rows == [["1", "100.0", "90.0", "100.0"], ["2", "190.0", "150.0", "200.0"]])
        #expect(BenchReport.terminal(r).contains("not comparable"))
    }

    /// SPF v9 to v12 and 6.4's per-VMA locks took anonymous VMAs only: on a
    /// file mapping every fault gives up and falls back to mmap_lock.
    @Test(arguments: ["spf-srcu", "spf-rwlock", "spf-rcu", "per-vma-lock"])
    func fileMappingsFallBackWhereTheLocklessPathWasAnonymousOnly(_ strategy: String) throws {
        var c = RunConfig(strategy: strategy, faulters: 1, mutators: 0, durationSeconds: 0.3, warmupSeconds: 0.05, seed: 6,
                          layout: Layout.sized(for: .pageFault2, faulters: 1))
        c.workload = .pageFault2
        c.mix = Workload.pageFault2.mix
        let r = try Runner.run(c)
        #expect(r.verdict == .success)
        let faults = r.op(.fault)?.count ?? 0
        let refused = r.faultEvents[FaultEvent.abortNotAnonymous.name] ?? 0
        let anonymousOnly = StrategyRegistry.named(strategy)!.isAnonymousOnly
        #expect(faults > 0)
        #expect(refused == (anonymousOnly ? faults : 0), "\(strategy): \(refused) of \(faults) gave up")
    }
}
