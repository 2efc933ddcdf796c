import CSupport
import Foundation
import Histogram

/// Runs a suite. Repetitions interleave: for each workload and thread count,
/// repetition 1 of every strategy, then repetition 2 in the reverse order,
/// and so on, so drift on a shared machine lands on every strategy alike.
public enum SuiteRunner {
    public struct Progress: Sendable {
        public var run: Int
        public var runs: Int
        public var cell: String
        public var repetition: Int
        public var elapsedSeconds: Double
        public var remainingSeconds: Double
    }

    public struct Output: Sendable {
        public var result: BenchResult
        /// HdrHistogram percentile distributions by file name (`<workload>-t<threads>-<strategy>-<op>.hgrm`).
        public var percentileFiles: [String: String]
        /// Runs that found violations.
        public var failures: [RunResult]
    }

    /// The percentiles the latency curves plot.
    static let curvePercentiles: [Double] = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]

    public static func run(_ given: Suite, tool: String, say: (String) -> Void = { _ in },
                           progress: (Progress) -> Void) throws -> Output {
        var suite = given
        let calibration = try resolveCalibratedWork(&suite, say: say)
        let started = Clock.nanos()
        let elapsed = { Double(Clock.nanos() - started) / 1e9 }
        var cells: [BenchCell] = []
        var files: [String: String] = [:]
        var failures: [RunResult] = []
        var interruptedBy: String?
        var done = 0

        groups: for w in suite.workloads {
            for t in suite.threads {
                var runs: [String: [RunResult]] = [:]
                // The suite's repetitions of every strategy, interleaved; then more of those still spread too far.
                var pending = suite.strategies, rep = 0
                while !pending.isEmpty {
                    defer {
                        rep += 1
                        pending = rep < suite.repetitions ? suite.strategies
                            : suite.strategies.filter { s in suite.wantsMore((runs[s] ?? []).map(\.countedOpsPerSecond), after: rep) }
                    }
                    // Forward in even repetitions, backward in odd ones (ABBA), so no strategy always runs first.
                    for s in rep % 2 == 0 ? pending : pending.reversed() {
                        let config = try suite.config(strategy: s, workload: w, threads: t, repetition: rep)
                        let per = done == 0 ? suite.durationSeconds + suite.warmupSeconds + 0.3 : elapsed() / Double(done)
                        progress(Progress(run: done + 1, runs: max(suite.runCount, done + 1), cell: "\(w.label), \(t) thread(s), \(s)",
                                          repetition: rep + 1, elapsedSeconds: elapsed(),
                                          remainingSeconds: per * Double(max(0, suite.runCount - done))))
                        let r = try Runner.run(config)
                        done += 1
                        if r.verdict == .interrupted {
                            interruptedBy = r.interruptedBy
                            cells += finish(w, t, suite, runs, into: &files)
                            break groups
                        }
                        if r.verdict == .failure { failures.append(r) }
                        runs[s, default: []].append(r)
                    }
                }
                cells += finish(w, t, suite, runs, into: &files)
                if vms_stop_signal() != 0 { break groups }
            }
        }
        if interruptedBy == nil { interruptedBy = Runner.stopSignalName() }
        let result = BenchResult(
            tool: tool, createdAt: ISO8601DateFormatter().string(from: Date()), machine: .current(), suite: suite,
            complete: interruptedBy == nil, interruptedBy: interruptedBy, elapsedSeconds: elapsed(),
            cells: cells, scaling: BenchResult.scaling(cells), calibration: calibration)
        return Output(result: result, percentileFiles: files, failures: failures)
    }

    /// `fault-work = calibrated` or `mutation-work = calibrated`: measures this machine's
    /// kernel and sets the suite's work to what matches it; returns the measurement.
    static func resolveCalibratedWork(_ suite: inout Suite, say: (String) -> Void) throws -> Calibration? {
        guard suite.faultWork == "calibrated" || suite.mutationWork == "calibrated" else { return nil }
        say("calibrating the fault and mutation work against this machine's kernel (vmastress calibrate)")
        let c = try Calibration.beforeRuns(say: say)
        if c.interrupted { throw Calibration.Failed(description: "interrupted while calibrating the fault work; nothing was run") }
        if suite.faultWork == "calibrated" {
            say("fault work: \(c.suggested)")
            suite.faultWork = c.suggested.description
        }
        if suite.mutationWork == "calibrated" {
            let m = c.mutations?.suggested ?? .none
            say("mutation work: \(m)")
            suite.mutationWork = m.description
        }
        return c
    }

    /// Summarises one workload and thread count: a cell per strategy that ran.
    static func finish(_ w: Suite.WorkloadSpec, _ t: Int, _ suite: Suite, _ runs: [String: [RunResult]],
                       into files: inout [String: String]) -> [BenchCell] {
        var cells: [BenchCell] = []
        for s in suite.strategies {
            guard let all = runs[s], let first = all.first else { continue }
            let rates = all.map(\.countedOpsPerSecond)
            let keptIndices = suite.keptRuns(rates)
            let kept = keptIndices.map { all[$0] }
            let aside = all.indices.filter { !keptIndices.contains($0) }
            var metrics: [String: Stat] = [:]
            for m in BenchMetric.allCases {
                let values = kept.compactMap { m.value($0) }
                guard values.count == kept.count else { continue }
                var stat = Stat(values, higherIsBetter: m.higherIsBetter)
                if !aside.isEmpty { stat.setAside = aside.compactMap { m.value(all[$0]) } }
                metrics[m.rawValue] = stat
            }
            let verdict: RunResult.Verdict = all.contains { $0.verdict == .failure } ? .failure : .success
            var merged: [String: Histogram<UInt64>] = [:]
            for r in kept {
                for (op, h) in r.histograms {
                    if merged[op] == nil { merged[op] = h } else { merged[op]!.add(h) }
                }
            }
            var curve: [[Double]] = []
            for (op, h) in merged.sorted(by: { $0.key < $1.key }) where h.totalCount > 0 {
                var text = ""
                h.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1)
                files["\(fileSafe(w.label))-t\(t)-\(s)-\(op).hgrm"] = text
                if op == OpKind.fault.name {
                    curve = curvePercentiles.map { [$0, Double(h.valueAtPercentile($0))] }
                }
            }
            cells.append(BenchCell(
                workload: w.label, threads: t, strategy: s, faulters: first.config.faulters, mutators: first.config.mutators,
                repetitions: kept.count, setAside: aside.isEmpty ? nil : aside, metrics: metrics, ratioToBaseline: nil,
                verdict: verdict, faultLatencyCurve: curve, reproduce: all.map(\.reproduce),
                unstable: suite.spreadLimit.map { suite.spread(rates) > $0 }, modes: Modes.of(rates)))
        }
        let base = cells.first { $0.strategy == suite.baseline }?.throughput?.median
        // Repetition r of each strategy ran with the baseline's repetition r: the same seed, moments apart.
        let baseRuns = (runs[suite.baseline] ?? []).map(\.countedOpsPerSecond)
        for i in cells.indices {
            if let base, base > 0, let m = cells[i].throughput?.median { cells[i].ratioToBaseline = m / base }
            let mine = (runs[cells[i].strategy] ?? []).map(\.countedOpsPerSecond)
            if cells[i].strategy != suite.baseline,
               let paired = PairedRatio(base: baseRuns, new: mine, confidence: Suite.ratioConfidence), paired.pairs >= 2 {
                cells[i].ratioInterval = paired
            }
        }
        return cells
    }

    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }
}
