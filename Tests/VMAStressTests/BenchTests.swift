import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import VMAStress

/// The project's root, for the shipped suite files.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Bench suites, reports and compare")
struct BenchTests {
    @Test(arguments: ["\r\n", "\n", "\r"])
    func crlfAndAByteOrderMarkReadAsPlainText(_ end: String) throws {
        let text = ["# a suite", "strategies = mmap-lock, spf-srcu", "threads = 1, 2", "", "repetitions = 2", "duration = 1s"]
            .joined(separator: end) + end
        let path = temporaryPath("bom\(end.utf8.count)\(end.first == "\r" ? "r" : "n").suite")
        try Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)).write(to: URL(fileURLWithPath: path))
        let s = try Suite.load(path: path)
        #expect(s.strategies == ["mmap-lock", "spf-srcu"] && s.threads == [1, 2] && s.repetitions == 2 && s.durationSeconds == 1)
    }

    @Test(arguments: [
        ("strategies = mmap-lock\nthreads = 1, 0\n", 2, "threads", "'0' is not a whole number from 1 to 256"),
        ("# c\n\nthreds = 1\n", 3, "threds", "unknown field"),
        ("strategies = mmap-lock, spf-nope\n", 1, "strategies", "unknown strategy 'spf-nope'"),
        ("workloads = page-fault, kernbench\n", 1, "workloads", "unknown workload 'kernbench'"),
        ("workload = stress mmap=lots\n", 1, "workload", "not a non-negative integer"),
        ("duration = soon\n", 1, "duration", "invalid duration 'soon'"),
        ("repetitions\n", 1, "repetitions", "expected 'key = value'"),
    ])
    func aBadSuiteNamesTheLineAndField(_ text: String, _ line: Int, _ field: String, _ message: String) {
        do {
            _ = try Suite.parse(text, file: "x.suite", name: "x")
            Issue.record("parsed: \(text)")
        } catch let e as Suite.ParseError {
            #expect(e.line == line && e.field == field, "\(e)")
            #expect(e.description.hasPrefix("x.suite:\(line): \(field): "))
            #expect(e.message.contains(message), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func theShippedSuitesParse() throws {
        let dir = root.appendingPathComponent("bench/suites")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".suite") }
        #expect(files.contains("default.suite"))
        for f in files { _ = try Suite.load(path: dir.appendingPathComponent(f).path) }
        let d = try Suite.load(path: dir.appendingPathComponent("default.suite").path)
        #expect(d.workloads.map(\.preset) == [.pageFault, .ebizzy, .readMostly, .mprotectStorm, .munmapLarge])
        #expect(d.strategies.count == 7 && d.strategies.first == "kernel" && d.check == .light && d.faultWork == "calibrated")
    }

    /// `vmas` runs every workload at each count, and the report draws them against VMA count.
    @Test func theVMACountAxisMultipliesWorkloadsAndIsCharted() throws {
        let s = try Suite.parse("strategies = mmap-lock\nworkload = read-mostly max-pages=1\nvmas = 256, 65530\n",
                                file: "v.suite", name: "v")
        #expect(s.workloads.map(\.label) == ["read-mostly+max-pages=1@256-vmas", "read-mostly+max-pages=1@65530-vmas"])
        let c = try s.config(strategy: "mmap-lock", workload: s.workloads[1], threads: 1, repetition: 0)
        #expect(c.vmas == 65530 && c.layout.churnPages >= 2 * 65530)
        #expect(Suite.WorkloadSpec.split(label: s.workloads[1].label) == ("read-mostly+max-pages=1", 65530))
        #expect(throws: Suite.ParseError.self) { try Suite.parse("vmas = 0\n", file: "v.suite", name: "v") }
        var r = result(s.workloads.map { ($0.label, [100, 90, 95]) })
        r.suite = s
        #expect(HTMLReport.render(r).contains("Cost against VMA count"))
        #expect(!HTMLReport.render(result([("a", [1, 2, 3])])).contains("Cost against VMA count"))
    }

    /// A result whose cells have fault ops/s `values` scaled by `factor`.
    private func result(_ cells: [(String, [Double])], factor: Double = 1) -> BenchResult {
        BenchResult(
            tool: "t", createdAt: "now", machine: .current(), suite: Suite(name: "t"), complete: true, interruptedBy: nil,
            elapsedSeconds: 1,
            cells: cells.map { name, values in
                BenchCell(workload: name, threads: 1, strategy: "mmap-lock", faulters: 1, mutators: 0, repetitions: values.count,
                          metrics: [BenchMetric.faultOpsPerSecond.rawValue: Stat(values.map { $0 * factor }, higherIsBetter: true),
                                    BenchMetric.faultP99.rawValue: Stat([100, 110, 105], higherIsBetter: false)],
                          ratioToBaseline: 1, verdict: .success, faultLatencyCurve: [], reproduce: [])
            }, scaling: [])
    }

    @Test func compareFlagsATwentyPercentSlowdownAndNotARerun() {
        let base = result([("a", [100, 103, 98]), ("b", [50, 51, 49.5]), ("noisy", [80, 100, 120])])
        let rerun = result([("a", [99, 101, 104]), ("b", [49, 52, 50]), ("noisy", [70, 95, 118])])
        #expect(Comparison.compare(base: base, new: rerun, thresholdPercent: 5).regressions.isEmpty)
        let slowed = Comparison.compare(base: base, new: result([("a", [100, 103, 98]), ("b", [50, 51, 49.5]),
                                                                 ("noisy", [80, 100, 120])], factor: 0.8),
                                        thresholdPercent: 5)
        #expect(slowed.regressions.map(\.workload) == ["a", "b"], "\(slowed.render(all: true))")
        // The noisy cell's 20% is inside its repetitions' 50% spread.
        #expect(slowed.rows.first { $0.workload == "noisy" && $0.metric == .faultOpsPerSecond }?.status == .withinNoise)
        let faster = Comparison.compare(base: base, new: result([("a", [100, 103, 98])], factor: 1.3), thresholdPercent: 5)
        #expect(faster.regressions.isEmpty && faster.improvements.count == 1 && faster.unmatched.count == 2)
    }

    @Test func studentsTAndTheSignedRankTestMatchTheirTables() {
        // t quantiles from the tables: df 2 and 5 at 97.5% and 99.5%.
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 2) - 4.3027) < 1e-3)
        #expect(abs(StudentT.quantile(0.995, degreesOfFreedom: 5) - 4.0321) < 1e-3)
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 30) - 2.0423) < 1e-3)
        // Six pairs all one way: 2 of the 64 sign patterns are as extreme.
        #expect(abs(SignedRank.twoSidedP([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) - 2.0 / 64) < 1e-12)
        // One of six the other way, the smallest: W = 1, 4 patterns of 64 at most that.
        #expect(abs(SignedRank.twoSidedP([-0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) - 4.0 / 64) < 1e-12)
        #expect(SignedRank.twoSidedP([0, 0, 0]) == 1)
        // Tied magnitudes share a rank: p stays a probability.
        let tied = SignedRank.twoSidedP([0.1, -0.1, 0.1, 0.1, 0.2, 0.2])
        #expect(tied > 0.06 && tied <= 1)
    }

    @Test func pairedRatiosJudgeAFivePercentSlowdownAndNotNoise() throws {
        let base = [100.0, 97, 103, 99, 101, 98]
        // The same noise pattern on both sides: nothing changed.
        let same = try #require(PairedRatio(base: base, new: [101, 96, 103, 100, 100, 98.5]))
        #expect(same.verdict(thresholdPercent: 2) == .same, "\(same)")
        #expect(same.low < 1 && same.high > 1)
        // 5% slower with 1% of pair noise: slower; the interval holds 0.95.
        let slow = try #require(PairedRatio(base: base, new: zip(base, [0.95, 0.96, 0.94, 0.95, 0.955, 0.945]).map { $0 * $1 }))
        #expect(slow.verdict(thresholdPercent: 2) == .slower, "\(slow)")
        #expect(slow.low < 0.95 && slow.high > 0.94 && slow.high < 1)
        #expect(slow.verdict(thresholdPercent: 2, higherIsBetter: false) == .faster)
        // Beyond the interval but under the threshold: the same.
        #expect(slow.verdict(thresholdPercent: 6) == .same)
        // One wild pair the other way: the signed-rank test no longer agrees.
        var wild = zip(base, [0.95, 0.96, 0.94, 0.95, 0.955, 0.945]).map { $0 * $1 }
        wild[2] = base[2] * 1.2
        #expect(try #require(PairedRatio(base: base, new: wild)).verdict(thresholdPercent: 2) == .same)
        // Three pairs cannot reach significance.
        #expect(try #require(PairedRatio(base: [1, 1, 1], new: [0.5, 0.5, 0.51])).verdict(thresholdPercent: 2) == .tooFewPairs)
        #expect(PairedRatio(base: [1, 0], new: [1, 1]) == nil)
    }

    @Test func compareRefusesDifferentWorkAndAHostThatDrifted() {
        var base = result([("a", [100, 101, 99])])
        var other = base
        base.suite.faultWork = "1695ns"
        other.suite.faultWork = "2063ns"
        let why = Comparability.problem(base: base, new: other, thresholdPercent: 5, ignoreHostDrift: false)
        #expect(why?.contains("--fault-work-from BASE") == true && why?.contains("--against") == true, "\(why ?? "nil")")
        other.suite.faultWork = "1695ns"
        other.suite.durationSeconds = 5
        #expect(Comparability.problem(base: base, new: other, thresholdPercent: 5, ignoreHostDrift: false)?.contains("duration") == true)
        // The kernel's own cells moved 20%: the host, not the build.
        func withKernel(_ factor: Double) -> BenchResult {
            var r = result([("a", [100, 101, 99]), ("b", [50, 50, 50])])
            r.suite.faultWork = "1695ns"
            for w in ["a", "b"] {
                var k = r.cells[0]
                (k.workload, k.strategy) = (w, "kernel")
                k.metrics = [BenchMetric.opsPerSecond.rawValue: Stat([200 * factor, 205 * factor, 195 * factor], higherIsBetter: true)]
                r.cells.append(k)
            }
            return r
        }
        let drifted = Comparability.problem(base: withKernel(1), new: withKernel(0.8), thresholdPercent: 5, ignoreHostDrift: false)
        #expect(drifted?.contains("host drifted") == true && drifted?.contains("-20.0%") == true, "\(drifted ?? "nil")")
        #expect(Comparability.problem(base: withKernel(1), new: withKernel(0.8), thresholdPercent: 5, ignoreHostDrift: true) == nil)
        #expect(Comparability.problem(base: withKernel(1), new: withKernel(0.98), thresholdPercent: 5, ignoreHostDrift: false) == nil)
    }

    @Test func suiteRepetitionsAlternateTheStrategiesAndPairTheirRatios() throws {
        var s = try Suite.parse("strategies = mmap-lock, per-vma-lock\nworkloads = page-fault\nthreads = 1\nrepetitions = 2\n"
            + "duration = 100ms\nwarmup = 20ms\n", file: "t.suite", name: "t")
        s.check = .off
        var order: [String] = []
        let out = try SuiteRunner.run(s, tool: "t") { order.append($0.cell) }
        #expect(order.map { $0.split(separator: ",").last!.trimmingCharacters(in: .whitespaces) }
            == ["mmap-lock", "per-vma-lock", "per-vma-lock", "mmap-lock"])
        let cell = try #require(out.result.cell("page-fault", 1, "per-vma-lock"))
        let interval = try #require(cell.ratioInterval)
        #expect(interval.pairs == 2 && interval.low <= interval.ratio && interval.ratio <= interval.high)
        #expect(out.result.cell("page-fault", 1, "mmap-lock")?.ratioInterval == nil)
    }

    @Test func statsAreMedianMinMaxAndSampleStddev() {
        let s = Stat([3, 1, 2, 10], higherIsBetter: true)
        #expect(s.median == 2.5 && s.min == 1 && s.max == 10)
        #expect(abs(s.stddev - 4.0826) < 0.001)
    }
}

/// A cell whose runs fall in two groups is reported as two numbers (issue 27).
@Suite("Bimodal cells")
struct ModesTests {
    @Test func twoGroupsApartAreTwoModes() throws {
        let m = try #require(Modes.of([7.3e6, 15.1e6, 7.5e6, 7.4e6, 15.9e6, 7.2e6]))
        #expect(m.map(\.runs) == [4, 2])
        #expect(abs(m[0].median - 7.35e6) < 1 && abs(m[1].median - 15.5e6) < 1)
    }

    @Test func oneSpreadOrTooFewRunsIsOneMode() {
        #expect(Modes.of([10, 10.2, 9.9, 10.1, 10.05]) == nil, "tight")
        #expect(Modes.of([5, 6, 7, 8, 9, 10]) == nil, "spread evenly: no gap of 25%")
        #expect(Modes.of([5, 5.1, 10]) == nil, "three runs")
        #expect(Modes.of([5, 5.1, 5.2, 10]) == nil, "one run alone is an outlier, not a mode")
        #expect(Modes.of([4, 6, 8.0, 12]) == nil, "groups as wide as the gap")
    }
}
