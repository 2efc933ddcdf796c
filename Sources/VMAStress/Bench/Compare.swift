/// `vmastress compare`: per-metric deltas between two suite results, cell by
/// cell. A change is a regression (or an improvement) only when it is worse
/// (better) by more than the threshold, by more than twice the spread of
/// either side's repetitions ((max - min) / median), and every repetition
/// of one side is beyond every repetition of the other: a delta inside the
/// noise of the repetitions is not a regression. Repetitions a cell's
/// statistics set aside (`Stat.setAside`) count here: they are the noise.
/// Only throughput is gated; latencies and overheads are reported.
///
/// Why twice: with three repetitions the range understates the spread of a
/// bimodal cell. Rerunning the default suite on the 2-core VM, one
/// mutation-throughput cell moved 31% against a 28% spread; with twice the
/// spread a rerun flagged nothing while a 20% slowdown still flagged 14
/// throughput rows.
public struct Comparison: Sendable {
    public enum Status: String, Sendable {
        case regression = "REGRESSION", improvement = "improvement", worse = "worse (not gated)"
        case withinNoise = "within noise", small = "below threshold"
    }

    public struct Row: Sendable {
        public var workload: String
        public var threads: Int
        public var strategy: String
        public var metric: BenchMetric
        public var base: Stat
        public var new: Stat
        /// (new - base) / base, in percent.
        public var deltaPercent: Double
        /// Twice the larger relative spread of the two sides, in percent: the noise band.
        public var noisePercent: Double
        public var status: Status
    }

    public var rows: [Row]
    /// Cells in one file and not the other.
    public var unmatched: [String]
    public var thresholdPercent: Double

    /// The noise band is this many times the repetitions' relative spread.
    public static let spreadFactor = 2.0

    public var regressions: [Row] { rows.filter { $0.status == .regression } }
    public var improvements: [Row] { rows.filter { $0.status == .improvement } }

    public static func compare(base: BenchResult, new: BenchResult, thresholdPercent: Double) -> Comparison {
        var rows: [Row] = []
        var unmatched: [String] = []
        for b in base.cells {
            guard let n = new.cell(b.workload, b.threads, b.strategy) else {
                unmatched.append("\(b.workload) t\(b.threads) \(b.strategy): only in the base")
                continue
            }
            for m in BenchMetric.allCases {
                guard let bs = b.stat(m), let ns = n.stat(m), bs.median != 0 else { continue }
                let delta = 100 * (ns.median - bs.median) / Swift.abs(bs.median)
                // The noise of every run, the ones a cell's statistics set aside too.
                let noise = Self.spreadFactor * 100 * Swift.max(bs.fullSpread, ns.fullSpread)
                let worse = m.higherIsBetter ? delta < 0 : delta > 0
                let (baseRuns, newRuns) = (bs.allValues, ns.allValues)
                guard let newLow = newRuns.min(), let newHigh = newRuns.max(),
                      let baseLow = baseRuns.min(), let baseHigh = baseRuns.max() else { continue }
                let separate = m.higherIsBetter == worse ? newHigh < baseLow : newLow > baseHigh
                let status: Status
                if Swift.abs(delta) <= thresholdPercent {
                    status = .small
                } else if Swift.abs(delta) <= noise || !separate {
                    status = .withinNoise
                } else {
                    status = worse ? (m.gated ? .regression : .worse) : .improvement
                }
                rows.append(Row(workload: b.workload, threads: b.threads, strategy: b.strategy, metric: m, base: bs,
                                new: ns, deltaPercent: delta, noisePercent: noise, status: status))
            }
        }
        for n in new.cells where base.cell(n.workload, n.threads, n.strategy) == nil {
            unmatched.append("\(n.workload) t\(n.threads) \(n.strategy): only in the new results")
        }
        return Comparison(rows: rows, unmatched: unmatched, thresholdPercent: thresholdPercent)
    }

    /// The table: every gated metric, and any other row beyond the threshold.
    public func render(all: Bool) -> String {
        let shown = rows.filter { all || $0.metric.gated || $0.status != .small }
        let table = TextReport.table(
            header: ["workload", "threads", "strategy", "metric", "base", "new", "delta %", "noise %", "verdict"],
            rows: shown.map { r in
                [r.workload, "\(r.threads)", r.strategy, r.metric.rawValue, TextReport.human(r.base.median),
                 TextReport.human(r.new.median), (r.deltaPercent >= 0 ? "+" : "") + TextReport.fixed(r.deltaPercent, 1),
                 TextReport.fixed(r.noisePercent, 1), r.status.rawValue]
            }, leftColumns: 4)
        var out = [table]
        out += unmatched.map { "unmatched: \($0)" }
        out.append("\(regressions.count) regression(s), \(improvements.count) improvement(s) beyond "
            + "\(TextReport.fixed(thresholdPercent, 1))% and twice the repetitions' spread; "
            + "\(rows.filter { $0.status == .withinNoise }.count) change(s) within noise")
        return out.joined(separator: "\n")
    }
}
