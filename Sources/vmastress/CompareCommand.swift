import ArgumentParser
import Foundation
import VMAStress

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Judge a bench against another cell by cell, or re-judge an A/B bench (bench --against).",
        discussion: """
            With one argument, an A/B bench ('vmastress bench SUITE --against BASE-BINARY'): its \
            cells judged again at --threshold (default: the bench's own), from the pairs it \
            measured; exit 1 when a cell is slower. This is the verdict to gate CI on: both builds \
            ran in one invocation, in pairs, so the host's drift cancels.
            With two arguments, two benches run separately: for each cell in both files and each \
            metric, the change of the median, in percent. A throughput change is a regression only \
            when it is worse by more than --threshold (default 5%), by more than twice the spread \
            (max - min over median) of either side's repetitions, and every repetition of NEW is \
            below every repetition of BASE. Latencies and overheads are shown, not gated. Two runs \
            are judged only when they measured the same work on the same host speed: the same \
            fault work and suite settings, and kernel cells (which no vmastress build changes) \
            whose median moved less than the threshold.
            Exit codes: 0 no regression, 1 at least one regression (or slower cell), 2 usage \
            error, unreadable file, or cannot judge: the fault work or suite settings differ \
            (rerun NEW with 'bench --fault-work-from BASE'), the host drifted (use 'bench \
            --against', or --ignore-host-drift), BASE or NEW is an interrupted bench (complete: \
            false), has no cells, or lacks cells the other has (unless --allow-missing; at least \
            one cell must still match).
            """)

    @Argument(help: "The base results.json (from 'vmastress bench'), or the directory holding it; alone, an A/B bench's.")
    var base: String

    @Argument(help: "The new results.json, or its directory.")
    var new: String?

    @Option(parsing: .unconditional, help: "Smallest change that counts, like 5% or 5 (default: 5%, or an A/B bench's own).")
    var threshold: String?

    @Flag(help: "Show every metric of every cell, not only throughput and changes beyond the threshold.")
    var all = false

    @Flag(help: "Judge on the cells both files have, when one has cells the other lacks.")
    var allowMissing = false

    @Flag(help: "Judge even when the kernel's own cells moved between the runs (when the kernel backend itself changed).")
    var ignoreHostDrift = false

    func thresholdPercent(default fallback: Double) throws -> Double {
        guard let threshold else { return fallback }
        return try parsePercent(threshold, option: "--threshold", example: "5%")
    }

    func load(_ path: String) throws -> BenchResult {
        do { return try BenchResult.load(path: path) } catch { throw ValidationError("\(error)") }
    }

    func validate() throws {
        if ParsePass.skipsChecks { return }
        _ = try thresholdPercent(default: 5)
        let b = try load(base)
        if let new {
            _ = try load(new)
        } else if b.ab == nil {
            throw ValidationError("\(base) is one bench: give NEW too, or an A/B bench ('vmastress bench SUITE --against BASE-BINARY')")
        }
        if new == nil && (allowMissing || ignoreHostDrift || all) {
            throw ValidationError("--allow-missing, --ignore-host-drift and --all compare two benches; an A/B bench has both sides")
        }
    }

    /// Throws exit 2 when the files cannot support a verdict.
    func checkJudgeable(_ b: BenchResult, _ n: BenchResult, _ c: Comparison, path: String) throws {
        for (label, path, r) in [("BASE", base, b), ("NEW", path, n)] {
            if r.cells.isEmpty { throw Exit(status: ExitStatus.usage, message: "cannot judge: \(label) \(path) has no cells") }
            if !r.complete {
                throw Exit(status: ExitStatus.usage, message: "cannot judge: \(label) \(path) is an interrupted bench (complete: false)")
            }
        }
        if let why = Comparability.problem(base: b, new: n, thresholdPercent: c.thresholdPercent, ignoreHostDrift: ignoreHostDrift) {
            throw Exit(status: ExitStatus.usage, message: "cannot judge: \(why)")
        }
        if !c.unmatched.isEmpty && !allowMissing {
            throw Exit(status: ExitStatus.usage, message: "cannot judge: \(c.unmatched.count) cell(s) in one file only, like "
                + "'\(c.unmatched[0])' (--allow-missing compares the rest)")
        }
        if c.rows.isEmpty { throw Exit(status: ExitStatus.usage, message: "cannot judge: BASE and NEW have no cell in common") }
    }

    func run() throws {
        let b = try load(base)
        guard let new else { return try judgeAB(b) }
        let n = try load(new)
        let c = Comparison.compare(base: b, new: n, thresholdPercent: try thresholdPercent(default: 5))
        try checkJudgeable(b, n, c, path: new)
        Console.out(c.render(all: all))
        if let drift = Comparability.hostDrift(base: b, new: n) {
            Console.out("host drift: the kernel's own cells moved \(TextReport.fixed(drift.percent, 1))% (median of \(drift.cells))")
        } else {
            Console.out("host drift: not checked (no kernel cells in both)")
        }
        if !c.regressions.isEmpty { throw Exit(status: 1, message: nil) }
    }

    func judgeAB(_ r: BenchResult) throws {
        guard let ab = r.ab else { return }
        if !r.complete { throw Exit(status: ExitStatus.usage, message: "cannot judge: \(base) is an interrupted bench (complete: false)") }
        let threshold = try thresholdPercent(default: ab.thresholdPercent)
        Console.out(BenchReport.abTable(ab, thresholdPercent: threshold))
        if ab.count(.slower, thresholdPercent: threshold) > 0 { throw Exit(status: 1, message: nil) }
    }
}
