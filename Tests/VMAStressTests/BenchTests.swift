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

    @Test func statsAreMedianMinMaxAndSampleStddev() {
        let s = Stat([3, 1, 2, 10], higherIsBetter: true)
        #expect(s.median == 2.5 && s.min == 1 && s.max == 10)
        #expect(abs(s.stddev - 4.0826) < 0.001)
    }
}
