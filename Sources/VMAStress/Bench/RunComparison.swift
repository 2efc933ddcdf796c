extension BenchReport {
    /// The table after a run of several strategies: one row per strategy
    /// (and check level or fault work), over its repetitions. With two or
    /// more, the ratio to the first row is the geometric mean of the
    /// repetitions taken in pairs (repetition r of both used seed + r, moments
    /// apart), with its 95% interval, and the spread is (max - min) / median.
    public static func runComparison(_ groups: [[RunResult]]) -> String {
        guard let base = groups.first, let first = base.first else { return "" }
        let reps = groups.map(\.count).min() ?? 1
        // Latency of the op the workload counts (mmap for mmap1, mmap2 and brk1).
        let counted = first.config.workload.spec.counted
        let timed: OpKind = counted == .faults ? .fault : .mmap
        // Rows name the check level and fault work too when they differ between them.
        let checks = Set(groups.map { $0[0].config.check }).count > 1
        // (The kernel does no model fault work: only a strategy run with several fault works is labelled.)
        let works = Dictionary(grouping: groups.map { $0[0] }, by: \.strategy).values
            .contains { Set($0.map(\.config.faultWork.description)).count > 1 }
        let label = { (r: RunResult) in
            r.strategy + (checks ? " (check \(r.config.check.rawValue))" : "") + (works ? " (fault work \(r.config.faultWork))" : "")
        }
        let median = { (v: [Double]) in Stat(v, higherIsBetter: true).median }
        let baseOps = base.map(\.countedOpsPerSecond)
        var header = ["strategy", "\(counted.rawValue) ops/s"]
        if reps > 1 { header += ["spread %"] }
        header += ["ratio to \(label(first))"] + (reps > 1 ? ["\(TextReport.fixed(100 * Suite.ratioConfidence, 0))% interval"] : [])
        header += ["\(timed.name) p50 ns", "\(timed.name) p99 ns", "lockless %", "aborts %", "fallbacks %", "verdict"]
        let rows = groups.map { runs -> [String] in
            let r = runs[0]
            let ops = runs.map(\.countedOpsPerSecond)
            var row = [label(r), TextReport.human(median(ops))]
            if reps > 1 { row.append(TextReport.fixed(100 * Stat(ops, higherIsBetter: true).relativeSpread, 1)) }
            let paired = PairedRatio(base: baseOps, new: Array(ops.prefix(reps)), confidence: Suite.ratioConfidence)
            row.append(paired.map { TextReport.fixed($0.ratio, 3) } ?? "-")
            if reps > 1 { row.append(runs.elementsEqual(base, by: { $0.config == $1.config }) ? "-" : paired.map(intervalText) ?? "-") }
            let latency = { (p: (LatencySummary) -> UInt64) in "\(Int(median(runs.map { Double($0.op(timed).map { p($0.latencyNs) } ?? 0) })))" }
            let rates = r.faultPathRates
            row += [latency(\.p50), latency(\.p99), rates.map { TextReport.fixed($0.success, 1) } ?? "-",
                    rates.map { TextReport.fixed($0.aborts, 1) } ?? "-", rates.map { TextReport.fixed($0.fallbacks, 1) } ?? "-",
                    runs.contains { $0.verdict == .failure } ? "FAILURE" : runs.contains { $0.verdict == .interrupted } ? "INTERRUPTED" : "SUCCESS"]
            return row
        }
        let how = reps > 1
            ? "\(reps) repetitions each, interleaved (forward, then backward), repetition r with seed \(first.config.seed) + r; medians"
            : "same workload and seed"
        return "comparison (one invocation, \(how)):\n" + TextReport.table(header: header, rows: rows)
    }
}
