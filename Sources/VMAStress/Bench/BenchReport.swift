import Foundation

/// A suite's results as text: the terminal tables, Markdown for pull-request
/// comments, and CSV.
public enum BenchReport {
    /// The headline: median ops/s (faults, or what the workload counts) per workload and threads, one column
    /// per strategy, each with its ratio to the baseline.
    public static func headline(_ r: BenchResult) -> (header: [String], rows: [[String]]) {
        let header = ["workload", "threads"] + r.strategies
        var rows: [[String]] = []
        for w in r.workloads {
            for t in r.threadCounts {
                rows.append([w, "\(t)"] + r.strategies.map { s in
                    guard let c = r.cell(w, t, s), let m = c.throughput else { return "-" }
                    return TextReport.human(m.median) + (c.ratioToBaseline.map { " (\(TextReport.fixed($0, 2))x)" } ?? "")
                        + (c.modes != nil ? " ~2" : c.unstable == true ? " ~" : "") + (c.verdict == .failure ? " FAIL" : "")
                })
            }
        }
        return (header, rows)
    }

    /// Every cell in detail: median, spread and overheads.
    public static func detail(_ r: BenchResult) -> (header: [String], rows: [[String]]) {
        let header = ["workload", "threads", "strategy", "fault ops/s", "min", "max", "sd %", "ratio",
                      "\(TextReport.fixed(100 * Suite.ratioConfidence, 0))% interval", "mut ops/s",
                      "p50 ns", "p99 ns", "lockless %", "aborts %", "fallbacks %", "csw/kop", "cpu ns/op", "verdict"]
        let rows = r.cells.map { c -> [String] in
            let f = c.stat(.faultOpsPerSecond)
            let pct = { (m: BenchMetric) in c.stat(m).map { TextReport.fixed($0.median, 1) } ?? "-" }
            return [c.workload, "\(c.threads)", c.strategy, f.map { TextReport.human($0.median) } ?? "-",
                    f.map { TextReport.human($0.min) } ?? "-", f.map { TextReport.human($0.max) } ?? "-",
                    f.map { TextReport.fixed($0.median > 0 ? 100 * $0.stddev / $0.median : 0, 1) } ?? "-",
                    c.ratioToBaseline.map { TextReport.fixed($0, 3) } ?? "-", c.ratioInterval.map(intervalText) ?? "-",
                    c.stat(.mutationOpsPerSecond).map { TextReport.human($0.median) } ?? "-",
                    c.stat(.faultP50).map { "\(Int($0.median))" } ?? "-", c.stat(.faultP99).map { "\(Int($0.median))" } ?? "-",
                    pct(.locklessPercent), pct(.abortPercent), pct(.fallbackPercent), pct(.contextSwitchesPerKOp),
                    c.stat(.cpuNanosPerOp).map { TextReport.fixed($0.median, 0) } ?? "-", c.verdict.rawValue]
        }
        return (header, rows)
    }

    /// `[0.951, 0.973]` ("-" for a bound a single pair cannot give).
    static func intervalText(_ p: PairedRatio) -> String {
        let bound = { (x: Double) in x.isFinite ? TextReport.fixed(x, 3) : "-" }
        return "[\(bound(p.low)), \(bound(p.high))]"
    }

    /// will-it-scale's shape: per workload, threads against each strategy's ops/s and percent of linear.
    /// Tables by workload.
    public typealias Tables = [(workload: String, header: [String], rows: [[String]])]

    public static func scaling(_ r: BenchResult) -> Tables {
        r.workloads.map { w in
            let rows = r.threadCounts.map { t in
                ["\(t)"] + r.strategies.map { s in
                    guard let p = r.scaling.first(where: { $0.workload == w && $0.strategy == s })?.points.first(where: { $0.threads == t })
                    else { return "-" }
                    return "\(TextReport.human(p.opsPerSecond)) " + (p.percentOfLinear.map { "\(TextReport.fixed($0, 0))%" } ?? "not comparable")
                }
            }
            return (w, ["threads"] + r.strategies.map { "\($0) (ops/s, % linear)" }, rows)
        }
    }

    /// The headline's legend for `~` and `~2` (nil when no cell is marked).
    public static func unstableNote(_ r: BenchResult) -> String? {
        var lines: [String] = []
        if let limit = r.suite.spreadLimit, r.cells.contains(where: { $0.unstable == true && $0.modes == nil }) {
            lines.append("~: the repetitions still spread more than \(TextReport.fixed(100 * limit, 0))% ((max - min) / median of the "
                + "\(r.suite.repetitions) nearest the median) after \(r.suite.maxRepetitions ?? r.suite.repetitions) repetitions")
        }
        let bimodal = r.cells.filter { $0.modes != nil }
        if !bimodal.isEmpty {
            lines.append("~2: bimodal, the repetitions in two groups at least 25% apart (the median above is neither):")
            for c in bimodal {
                let modes = c.modes!.map { "\(TextReport.human($0.median)) (\($0.runs) run\($0.runs == 1 ? "" : "s"))" }
                lines.append("  \(c.workload), \(c.threads) thread(s), \(c.strategy): " + modes.joined(separator: " and "))
            }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// will-it-scale's own table for a backend run both ways (`kernel` and
    /// `kernel-processes`): per workload, by tasks: processes, threads and
    /// linear (tasks x the processes' ops/s at the fewest tasks, per task),
    /// as its runtest.py prints.
    public static func willItScale(_ r: BenchResult) -> Tables {
        let suffix = StrategyRegistry.processesSuffix
        guard let inProcesses = r.cells.lazy.map(\.strategy).first(where: { $0.hasSuffix(suffix) }) else { return [] }
        let inThreads = String(inProcesses.dropLast(suffix.count))
        return r.workloads.compactMap { w in
            let ops = { (s: String, t: Int) in r.cell(w, t, s)?.throughput?.median }
            let counts = r.threadCounts.filter { ops(inProcesses, $0) != nil }
            guard let first = counts.first, let base = ops(inProcesses, first) else { return nil }
            let rows = counts.map { t in
                ["\(t)", ops(inProcesses, t).map(TextReport.human) ?? "-", ops(inThreads, t).map(TextReport.human) ?? "-",
                 TextReport.human(base / Double(first) * Double(t))]
            }
            return (w, ["tasks", "processes", "threads", "linear"], rows)
        }
    }

    public static func terminal(_ r: BenchResult) -> String {
        var out: [String] = []
        let h = headline(r)
        out.append("ops/s (faults; mmap1 and mmap2 count mmaps, brk1 mmaps and munmaps), median of \(r.suite.repetitions), ratio to \(r.suite.baseline) in brackets:")
        out.append(TextReport.table(header: h.header, rows: h.rows, leftColumns: 1))
        if let note = unstableNote(r) { out.append(note) }
        out.append("")
        func group(_ title: String, _ tables: [Tables.Element]) {
            out.append(title)
            for s in tables {
                out.append("\(s.workload):")
                out.append(TextReport.table(header: s.header, rows: s.rows, leftColumns: 0))
            }
        }
        group("scaling (will-it-scale): ops/s and percent of linear from the fewest threads; not comparable where the cells run mutators", scaling(r))
        let wis = willItScale(r)
        if !wis.isEmpty {
            out.append("")
            group("the kernel in will-it-scale's shape (ops/s):", wis)
        }
        out.append("")
        let d = detail(r)
        out.append(TextReport.table(header: d.header, rows: d.rows, leftColumns: 3))
        return out.joined(separator: "\n")
    }

    public static func markdown(_ r: BenchResult) -> String {
        func table(_ header: [String], _ rows: [[String]], left: Int) -> String {
            let align = header.indices.map { $0 < left ? "---" : "---:" }
            return ([header, align] + rows).map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
        }
        var out: [String] = []
        out.append("## vmastress bench: \(r.suite.name)")
        out.append("")
        out.append("\(r.machine.cpusAllowed) CPU(s), \(r.machine.numaNodes) NUMA node(s), kernel \(r.machine.kernel); "
            + "\(r.suite.repetitions) repetition(s) of \(DurationText.format(r.suite.durationSeconds)) after "
            + "\(DurationText.format(r.suite.warmupSeconds)) warm-up, check \(r.suite.check.rawValue), seed \(r.suite.seed), "
            + "fault work \(r.suite.faultWork ?? "none")"
            + (r.calibration.map { " (calibrated: the kernel's page_fault1 at \(Int($0.kernel.nsPerFault.rounded())) ns per fault)" } ?? "")
            + (r.suite.mutationWork.map { $0 == "none" ? "" : ", mutation work \($0)" } ?? "") + "; "
            + "\(r.complete ? "complete" : "INCOMPLETE (interrupted by \(r.interruptedBy ?? "a signal"))"), "
            + "\(TextReport.fixed(r.elapsedSeconds / 60, 1)) min.")
        out.append("")
        out.append("ops/s (faults; mmap1 and mmap2 count mmaps, brk1 mmaps and munmaps), median; ratio to `\(r.suite.baseline)` on the same cell in brackets.")
        out.append("")
        let h = headline(r)
        out.append(table(h.header, h.rows, left: 2))
        if let note = unstableNote(r) { out.append("\n" + note) }
        out.append("")
        func group(_ title: String, _ tables: [Tables.Element]) {
            out.append("### " + title)
            for s in tables {
                out += ["", "**\(s.workload)**", "", table(s.header, s.rows, left: 1)]
            }
        }
        group("Scaling (percent of linear from the fewest threads; not comparable where the cells run mutators)", scaling(r))
        let wis = willItScale(r)
        if !wis.isEmpty {
            out.append("")
            group("The kernel in will-it-scale's shape (ops/s)", wis)
        }
        if let ab = r.ab {
            out += ["", "### A/B: this build against \(ab.base.path)", "", "```", BenchReport.abTable(ab), "```"]
        }
        out.append("")
        out.append("<details><summary>Every cell</summary>")
        out.append("")
        let d = detail(r)
        out.append(table(d.header, d.rows, left: 3))
        out.append("")
        out.append("</details>")
        return out.joined(separator: "\n") + "\n"
    }

    public static func csv(_ r: BenchResult) -> String {
        let metrics = BenchMetric.allCases
        var header = ["workload", "threads", "strategy", "faulters", "mutators", "repetitions", "verdict", "ratio_to_baseline",
                      "ratio_low", "ratio_high"]
        for m in metrics { header += ["median", "min", "max", "stddev"].map { "\(m.rawValue):\($0)" } }
        var lines = [header.joined(separator: ",")]
        for c in r.cells {
            var row = [c.workload, "\(c.threads)", c.strategy, "\(c.faulters)", "\(c.mutators)", "\(c.repetitions)",
                       c.verdict.rawValue, c.ratioToBaseline.map { String(format: "%.4f", $0) } ?? ""]
                + [c.ratioInterval?.low, c.ratioInterval?.high].map { $0.flatMap { $0.isFinite ? String(format: "%.4f", $0) : nil } ?? "" }
            for m in metrics {
                if let s = c.stat(m) {
                    row += [s.median, s.min, s.max, s.stddev].map { String(format: "%.4f", $0) }
                } else {
                    row += ["", "", "", ""]
                }
            }
            lines.append(row.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
