/// Whether two bench results from separate invocations measured the same
/// work on the same host speed: what `compare` checks before it judges.
/// Two runs minutes apart on a shared machine differ in two ways that are
/// not the build: the work (a fault work calibrated separately, or other
/// suite settings) and the host's own speed, which the `kernel` cells
/// measure because no build of vmastress changes what the kernel costs.
public enum Comparability {
    /// The suite settings that change what a cell measures, by name.
    static let settings: [(name: String, value: @Sendable (Suite) -> String)] = [
        ("fault-work", { $0.faultWork ?? "none" }),
        ("mutation-work", { $0.mutationWork ?? "none" }),
        ("duration", { DurationText.format($0.durationSeconds) }),
        ("warmup", { DurationText.format($0.warmupSeconds) }),
        ("check", { $0.check.rawValue }),
        ("mutation-rate", { $0.mutationRate.map { TextReport.fixed($0, 0) } ?? "0" }),
        ("mutators", { $0.mutators.map(String.init) ?? "the workload's" }),
        ("rcu-flavor", { $0.rcuFlavor.rawValue }),
        ("seed", { "\($0.seed)" }),
    ]

    /// Why `new` cannot be judged against `base` (nil: it can), with the way to a pair that can.
    public static func problem(base: BenchResult, new: BenchResult, thresholdPercent: Double,
                               ignoreHostDrift: Bool) -> String? {
        let differ = settings.filter { $0.value(base.suite) != $0.value(new.suite) }
        if differ.contains(where: { $0.name == "fault-work" }) {
            let kernel = { (r: BenchResult) in r.calibration.map { " (calibrated on a kernel fault of \(Int($0.kernel.nsPerFault.rounded())) ns)" } ?? "" }
            return "BASE's faults did \(base.suite.faultWork ?? "none") of work\(kernel(base)) and NEW's "
                + "\(new.suite.faultWork ?? "none")\(kernel(new)), so every model cell measured different work; rerun NEW with "
                + "'vmastress bench SUITE --fault-work-from BASE', or measure both builds in one invocation with "
                + "'vmastress bench SUITE --against BASE-BINARY'"
        }
        if !differ.isEmpty {
            return "the suites differ in " + differ.map { "\($0.name) (\($0.value(base.suite)) against \($0.value(new.suite)))" }
                .joined(separator: ", ") + "; rerun NEW with BASE's settings"
        }
        guard !ignoreHostDrift, let drift = hostDrift(base: base, new: new), Swift.abs(drift.percent) > thresholdPercent else {
            return nil
        }
        return "the host drifted: the kernel's own cells, which no build of vmastress changes, moved "
            + "\(drift.percent >= 0 ? "+" : "")\(TextReport.fixed(drift.percent, 1))% (median of \(drift.cells) cells, "
            + "beyond \(TextReport.fixed(thresholdPercent, 1))%) between the two runs; measure both builds in one invocation "
            + "with 'vmastress bench SUITE --against BASE-BINARY' (or pass --ignore-host-drift if the kernel backend itself changed)"
    }

    /// The median change of the host reference cells' throughput, in percent; nil without such cells in both.
    public static func hostDrift(base: BenchResult, new: BenchResult) -> (percent: Double, cells: Int)? {
        let deltas = base.cells.filter { StrategyRegistry.isHostReference($0.strategy) }.compactMap { b -> Double? in
            guard let n = new.cell(b.workload, b.threads, b.strategy), let bm = b.throughput?.median, bm > 0,
                  let nm = n.throughput?.median else { return nil }
            return 100 * (nm - bm) / bm
        }
        guard !deltas.isEmpty else { return nil }
        return (Stat(deltas, higherIsBetter: true).median, deltas.count)
    }
}
