import Foundation

/// The self-contained HTML report of a suite: the headline table and, per
/// workload, SVG charts of throughput against threads (and, for workloads
/// run at several `--vmas`, cost against VMA count), fault-latency
/// percentile curves (log axes), abort and fallback rates, and context
/// switches per operation. No scripts, no external files.
public enum HTMLReport {
    public static func render(_ r: BenchResult) -> String {
        let colors = Dictionary(uniqueKeysWithValues: r.strategies.enumerated().map {
            ($1, SVGChart.palette[$0 % SVGChart.palette.count])
        })
        let maxThreads = r.threadCounts.last ?? 1
        var body = ""
        body += "<h1>vmastress bench: \(SVGChart.escape(r.suite.name))</h1>"
        body += "<p>\(SVGChart.escape(r.suite.description))</p>"
        body += "<p class=\"meta\">\(r.machine.cpusAllowed) CPU(s), \(r.machine.numaNodes) NUMA node(s), kernel "
            + "\(SVGChart.escape(r.machine.kernel)), host \(SVGChart.escape(r.machine.hostname)); "
            + "\(r.suite.repetitions) repetition(s) of \(DurationText.format(r.suite.durationSeconds)) after "
            + "\(DurationText.format(r.suite.warmupSeconds)) warm-up, check \(r.suite.check.rawValue), seed \(r.suite.seed); "
            + "\(SVGChart.escape(r.createdAt)); \(r.complete ? "complete" : "<b>interrupted</b>").</p>"
        let h = BenchReport.headline(r)
        body += "<h2>ops/s (median: faults, or what mmap1, mmap2 and brk1 count; ratio to \(SVGChart.escape(r.suite.baseline)))</h2>" + table(h.header, h.rows)

        for t in BenchReport.willItScale(r) {
            body += "<h2>\(SVGChart.escape(t.workload)): the kernel in will-it-scale's shape (ops/s)</h2>" + table(t.header, t.rows)
        }

        body += "<h2>Throughput against threads</h2><div class=\"charts\">"
        for w in r.workloads {
            let series = r.strategies.map { s in
                SVGChart.Series(name: s, color: colors[s]!, points: r.threadCounts.compactMap { t in
                    r.cell(w, t, s)?.throughput.map { SVGChart.Point(x: Double(t), y: $0.median, low: $0.min, high: $0.max) }
                })
            }
            body += SVGChart.lineChart(title: "\(w): ops/s (median, min-max)", xLabel: "threads", yLabel: "ops/s",
                                       series: series, xTicks: r.threadCounts.map { (Double($0), "\($0)") })
        }
        body += "</div>" + vmaCountCharts(r, colors: colors, threads: maxThreads)
        body += "<h2>Fault latency percentiles at \(maxThreads) thread(s)</h2><div class=\"charts\">"
        let nines: [(Double, String)] = [(50, "50%"), (90, "90%"), (99, "99%"), (99.9, "99.9%"), (99.99, "99.99%"), (99.999, "99.999%")]
            .map { (ninesX($0.0), $0.1) }
        for w in r.workloads {
            let series = r.strategies.compactMap { s -> SVGChart.Series? in
                guard let c = r.cell(w, maxThreads, s), !c.faultLatencyCurve.isEmpty else { return nil }
                return SVGChart.Series(name: s, color: colors[s]!, points: c.faultLatencyCurve
                    .filter { $0[0] >= 50 && $0[0] < 100 && $0[1] > 0 }.map { SVGChart.Point(x: ninesX($0[0]), y: $0[1]) })
            }
            body += SVGChart.lineChart(title: "\(w): fault latency (ns, log)", xLabel: "percentile", yLabel: "ns",
                                       series: series, yScale: .log10, xTicks: nines, yFromZero: false)
        }
        body += "</div><h2>Aborts and fallbacks at \(maxThreads) thread(s) (percent of faults)</h2><div class=\"charts\">"
        let lockless = r.strategies.filter { s in r.cells.contains { $0.strategy == s && $0.stat(.abortPercent) != nil } }
        for w in r.workloads {
            body += SVGChart.barChart(
                title: "\(w): aborts and fallbacks (%)", yLabel: "% of faults", groups: lockless,
                series: [("aborts", "#d62728", lockless.map { r.cell(w, maxThreads, $0)?.stat(.abortPercent)?.median }),
                         ("fallbacks", "#7f7f7f", lockless.map { r.cell(w, maxThreads, $0)?.stat(.fallbackPercent)?.median })])
        }
        body += "</div><h2>Context switches per 1000 operations at \(maxThreads) thread(s)</h2><div class=\"charts\">"
        body += SVGChart.barChart(
            title: "context switches per 1000 ops (voluntary + involuntary)", yLabel: "per 1000 ops", groups: r.workloads,
            series: r.strategies.map { s in
                (s, colors[s]!, r.workloads.map { r.cell($0, maxThreads, s)?.stat(.contextSwitchesPerKOp)?.median })
            })
        body += "</div>"
        let d = BenchReport.detail(r)
        body += "<h2>Every cell</h2>" + table(d.header, d.rows)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>vmastress bench: \(SVGChart.escape(r.suite.name))</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; }
            table { border-collapse: collapse; font-size: 13px; margin-bottom: 16px; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th { background: #f0f0f0; }
            .meta { color: #555; font-size: 13px; }
            .charts { display: flex; flex-wrap: wrap; gap: 12px; }
            svg.chart { border: 1px solid #ddd; }
            svg .grid { stroke: #e5e5e5; }
            svg .axis { stroke: #333; }
            svg .tick, svg .legend { font-size: 11px; fill: #333; }
            svg .title { font-size: 13px; font-weight: bold; }
            svg .label { font-size: 12px; fill: #333; }
            </style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    /// Per workload run at several `--vmas` counts (the `vma-count` suite):
    /// fault and mutation ops/s and mutation p50 and p99 against VMA count, on log axes.
    static func vmaCountCharts(_ r: BenchResult, colors: [String: String], threads: Int) -> String {
        let split = r.workloads.map { Suite.WorkloadSpec.split(label: $0) }
        let bases = split.filter { $0.vmas != nil }.map(\.base).uniqued()
        guard !bases.isEmpty else { return "" }
        var out = "<h2>Cost against VMA count at \(threads) thread(s)</h2><div class=\"charts\">"
        let metrics: [(BenchMetric, String, SVGChart.Scale)] = [
            (.faultOpsPerSecond, "fault ops/s", .linear), (.mutationOpsPerSecond, "mutation ops/s", .linear),
            (.mutationP50, "mutation p50 (ns, log)", .log10), (.mutationP99, "mutation p99 (ns, log)", .log10),
        ]
        for base in bases {
            let counts = split.filter { $0.base == base }.compactMap(\.vmas).sorted()
            let ticks = counts.map { (Double($0), $0 < 1000 ? "\($0)" : TextReport.human(Double($0))) }
            for (metric, title, yScale) in metrics {
                let series = r.strategies.map { s in
                    SVGChart.Series(name: s, color: colors[s]!, points: counts.compactMap { n in
                        r.cell(Suite.WorkloadSpec.label(base: base, vmas: n), threads, s)?.stat(metric)
                            .map { SVGChart.Point(x: Double(n), y: $0.median, low: $0.min, high: $0.max) }
                    })
                }
                out += SVGChart.lineChart(title: "\(base): \(title)", xLabel: "VMAs (log)", yLabel: title,
                                          series: series, xScale: .log10, yScale: yScale, xTicks: ticks,
                                          yFromZero: yScale == .linear)
            }
        }
        return out + "</div>"
    }

    /// Percentiles on a "nines" axis: 90% is 1, 99% is 2, 99.9% is 3.
    static func ninesX(_ p: Double) -> Double { -log10(1 - p / 100) }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }
}
