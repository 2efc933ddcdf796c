/// The table an A/B bench prints: per cell both sides' median ops/s, the
/// paired ratio with its interval, the signed-rank p and the verdict.
extension BenchReport {
    public static func abTable(_ ab: ABComparison, thresholdPercent: Double? = nil) -> String {
        let threshold = thresholdPercent ?? ab.thresholdPercent
        let median = { (v: [Double]) in Stat(v, higherIsBetter: true).median }
        let table = TextReport.table(
            header: ["workload", "threads", "strategy", "base ops/s", "new ops/s", "new/base",
                     "\(TextReport.fixed(100 * ab.confidence, 0))% interval", "signed-rank p", "verdict"],
            rows: ab.cells.map { c in
                [c.workload, "\(c.threads)", c.strategy, TextReport.human(median(c.base)), TextReport.human(median(c.new)),
                 c.ratio.map { TextReport.fixed($0.ratio, 3) } ?? "-", c.ratio.map(intervalText) ?? "-",
                 c.ratio.map { TextReport.fixed($0.signedRankP, 3) } ?? "-", c.verdict(thresholdPercent: threshold).rawValue]
            }, leftColumns: 3)
        let slower = ab.count(.slower, thresholdPercent: threshold), faster = ab.count(.faster, thresholdPercent: threshold)
        return """
            A/B, new \(ab.new.path) (\(ab.new.version)) against base \(ab.base.path) (\(ab.base.version)), \(ab.pairs) pairs a cell in ABBA order:
            \(table)
            \(slower) cell(s) slower, \(faster) faster, \(ab.cells.count - slower - faster) the same of \(ab.cells.count) \
            (slower or faster: the \(TextReport.fixed(100 * ab.confidence, 0))% interval excludes 1, signed-rank p <= \
            \(TextReport.fixed(PairedRatio.rankAlpha, 2)), and the change is beyond \(TextReport.fixed(threshold, 1))%)
            """
    }
}
