import ArgumentParser
import CSupport
import Foundation
import Glibc
import VMAStress

struct BenchSuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run a benchmark suite: strategies x workloads (x VMA counts) x threads x repetitions.",
        discussion: """
            SUITE is a file, or a name in bench/suites/ (default, quick, scaling, vma-count, ...); the format is in \
            bench/README.md. Repetitions interleave strategies. Each cell reports median, min, max and \
            standard deviation, and its ratio to the baseline (mmap-lock) on the same cell. Writes to \
            --out: results.json, results.csv, results.md (for pull requests), report.html (SVG charts) \
            and hgrm/ (HdrHistogram percentile distributions per cell and op), as one set: written into \
            a fresh directory beside --out and swapped into place, also when a stop signal cuts the \
            suite short. --out must be new, empty or a previous output. Progress goes to stderr when \
            it is a terminal.
            With --against BINARY (A/B, for CI gates): every cell runs --pairs times with each \
            binary as child processes, in pairs with the same seed and fault work (calibrated once), \
            the base first in even pairs and this binary first in odd ones; each cell gets the \
            ratio new/base with a 99% interval (paired t on the log ratios) and a verdict: slower \
            or faster only when the interval excludes 1, the exact Wilcoxon signed-rank p is at \
            most 0.05, and the change is beyond --threshold. results.json records both sides \
            ('ab'). Within one binary, each cell's ratio to the baseline comes with a 95% interval \
            from the repetitions paired by seed.
            Exit codes: 0 done, 1 a run found a violation or (--against) a cell was judged slower, \
            2 usage error or bad suite file, 3 runtime error, 128+N interrupted by signal N (129 \
            SIGHUP, 130 SIGINT, 143 SIGTERM; what was measured is written).
            """)

    @Argument(help: "Suite file or name in bench/suites/.")
    var suite = "default"

    @Option(help: "Directory for the result files (default: results/bench-<suite>).")
    var out: String?

    @Option(help: "Override the suite's strategies (comma-separated).")
    var strategy: String?

    @Option(help: "Override the suite's workloads (comma-separated presets).")
    var workload: String?

    @Option(parsing: .unconditional, help: "Override the suite's thread counts (comma-separated).")
    var threads: String?

    @Option(parsing: .unconditional, help: "Override the suite's repetitions.")
    var repetitions: Int?

    @Option(parsing: .unconditional, help: "Override the suite's measured duration per run.")
    var duration: String?

    @Option(parsing: .unconditional, help: "Override the suite's warm-up per run.")
    var warmup: String?

    @Option(help: "A --mix (key=value,...) for every workload of the suite.")
    var mix: String?

    @Option(help: ArgumentHelp("A/B: run every cell with this vmastress binary too (the build of the base commit), in pairs, alternating which runs first, and judge this binary against it per cell.", valueName: "binary"))
    var against: String?

    @Option(parsing: .unconditional, help: "With --against: pairs per cell (at least \(PairedRatio.minimumPairs); the suite's repetitions do not apply).")
    var pairs = 6

    @Option(parsing: .unconditional, help: "With --against: the smallest change judged slower or faster, like 2% or 2.")
    var threshold = "2%"

    @Option(help: ArgumentHelp("Run with the fault and mutation work of an earlier results.json (or its directory) instead of the suite's, so that 'vmastress compare' can judge the two.", valueName: "results"))
    var faultWorkFrom: String?

    func loadSuite() throws -> Suite {
        let path = FileManager.default.fileExists(atPath: suite) ? suite : "bench/suites/\(suite).suite"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = (try? FileManager.default.contentsOfDirectory(atPath: "bench/suites"))?
                .filter { $0.hasSuffix(".suite") }.map { String($0.dropLast(6)) }.sorted() ?? []
            throw ValidationError("no suite '\(suite)': not a file, nor bench/suites/\(suite).suite"
                + (known.isEmpty ? " (run from the project's root)" : "; suites: \(known.joined(separator: ", "))"))
        }
        var s = try Suite.load(path: path)
        // Overrides are read as suite lines, so they are checked the same way.
        var lines: [String] = []
        if let strategy { lines.append("strategies = \(strategy)") }
        if let workload { lines.append("workloads = \(workload)") }
        if let threads { lines.append("threads = \(threads)") }
        if let repetitions { lines.append("repetitions = \(repetitions)") }
        if let duration { lines.append("duration = \(duration)") }
        if let warmup { lines.append("warmup = \(warmup)") }
        let o = try Suite.parse(lines.joined(separator: "\n"), file: "command line", name: s.name, validate: false)
        if strategy != nil { s.strategies = o.strategies }
        if workload != nil { s.workloads = o.workloads }
        if threads != nil { s.threads = o.threads }
        if repetitions != nil { s.repetitions = o.repetitions }
        if duration != nil { s.durationSeconds = o.durationSeconds }
        if warmup != nil { s.warmupSeconds = o.warmupSeconds }
        if let mix {
            s.workloads = try s.workloads.map { w in
                let combined = [w.mix, mix].compactMap { $0 }.joined(separator: ",")
                var m = w.preset.mix
                try m.apply(spec: combined)
                return Suite.WorkloadSpec(w.preset, mix: combined, vmas: w.vmas)
            }
        }
        if let faultWorkFrom {
            let base = try BenchResult.load(path: faultWorkFrom)
            s.faultWork = base.suite.faultWork
            s.mutationWork = base.suite.mutationWork
        }
        try s.validateCells(file: path)
        return s
    }

    func thresholdPercent() throws -> Double { try parsePercent(threshold, option: "--threshold", example: "2%") }

    /// This process's own binary: the new side of an A/B bench.
    static var ownBinary: String { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }

    /// What a bench writes into --out; a directory holding anything else is refused.
    static let resultNames: Set<String> = ["results.json", "results.csv", "results.md", "report.html", "hgrm"]

    func outDir(for suite: Suite) -> String { out ?? "results/bench-\(suite.name)" }

    func validate() throws {
        if ParsePass.skipsChecks { return }
        let outDir: String
        do {
            outDir = self.outDir(for: try loadSuite())
        } catch let e as Suite.ParseError {
            throw ValidationError(e.description)
        } catch let e as ValidationError {
            throw e
        } catch {
            throw ValidationError("\(error)")
        }
        guard let against else {
            if pairs != 6 { throw ValidationError("--pairs goes with --against (a suite's own runs are its repetitions)") }
            if threshold != "2%" { throw ValidationError("--threshold goes with --against ('vmastress compare' takes its own)") }
            try usageChecks { try AtomicFile.checkDirectory(outDir, known: Self.resultNames) }
            return
        }
        guard (PairedRatio.minimumPairs...100).contains(pairs) else {
            throw ValidationError("--pairs must be between \(PairedRatio.minimumPairs) and 100: with fewer, the signed-rank test cannot reach p <= 0.05 (got \(pairs))")
        }
        _ = try thresholdPercent()
        guard FileManager.default.isExecutableFile(atPath: against) else {
            throw ValidationError("--against \(against): no executable file there (give the path of another vmastress binary)")
        }
        try usageChecks { _ = try ABRunner.version(of: against) }
        try usageChecks { try AtomicFile.checkDirectory(outDir, known: Self.resultNames) }
    }

    func run() throws {
        let suite = try loadSuite()
        let outDir = self.outDir(for: suite)
        vms_install_stop_signals()
        let progress = ProgressLine(enabled: isatty(2) == 1)
        let perCell = against == nil ? "\(suite.repetitions) repetitions = \(suite.runCount)" : "\(pairs) pairs x 2 binaries = \(suite.cellCount * pairs * 2)"
        Console.out("bench \(suite.name): \(suite.strategies.count) strategies x \(suite.workloads.count) workloads x "
            + "\(suite.threads.count) thread counts x \(perCell) runs of "
            + "\(DurationText.format(suite.durationSeconds)) (+\(DurationText.format(suite.warmupSeconds)) warm-up), check \(suite.check.rawValue), "
            + "fault work \(suite.faultWork ?? "none")" + (suite.mutationWork.map { ", mutation work \($0)" } ?? ""))
        if let faultWorkFrom { Console.out("fault work \(suite.faultWork ?? "none"), from \(faultWorkFrom)") }
        let tool = "vmastress \(VMAStressCommand.configuration.version)"
        var output: SuiteRunner.Output
        do {
            if let against {
                Console.out("A/B: every cell \(pairs) times with each binary, in pairs (ABBA): base \(against), new \(Self.ownBinary)")
                let options = ABRunner.Options(base: against, new: Self.ownBinary, pairs: pairs, thresholdPercent: try thresholdPercent())
                output = try ABRunner.run(suite, options: options, tool: tool, say: { Console.out($0) }) { progress.show($0) }
            } else {
                output = try SuiteRunner.run(suite, tool: tool, say: { Console.out($0) }) { progress.show($0) }
            }
            output.result.faultWorkFrom = faultWorkFrom
        } catch {
            progress.finish()
            let signal = vms_stop_signal()
            throw Exit(status: signal != 0 ? ExitStatus.interrupted(by: signal) : ExitStatus.runtime, message: "\(error)")
        }
        progress.finish()
        let r = output.result
        Console.out(BenchReport.terminal(r))
        if let ab = r.ab { Console.out("\n" + BenchReport.abTable(ab)) }
        do {
            let files = [("results.json", try AtomicFile.jsonData(r)), ("results.csv", Data(BenchReport.csv(r).utf8)),
                         ("results.md", Data(BenchReport.markdown(r).utf8)), ("report.html", Data(HTMLReport.render(r).utf8))]
                + output.percentileFiles.map { ("hgrm/\($0.0)", Data($0.1.utf8)) }
            try AtomicFile.writeDirectory(files.map { (path: $0.0, data: $0.1) }, to: outDir)
        } catch {
            throw Exit(status: ExitStatus.runtime, message: "\(error)")
        }
        Console.out("\nwrote \(outDir)/results.json, results.csv, results.md, report.html and \(output.percentileFiles.count) files in hgrm/")
        for f in output.failures.prefix(3) {
            Console.error("vmastress: violation in \(f.strategy): reproduce with: \(f.reproduce)")
        }
        if !output.failures.isEmpty { throw Exit(status: ExitStatus.violation, message: nil) }
        if !r.complete { throw Exit(status: ExitStatus.interrupted(by: vms_stop_signal()), message: nil) }
        if let ab = r.ab, ab.count(.slower) > 0 { throw Exit(status: ExitStatus.violation, message: nil) }
    }
}

/// The progress line on stderr: run n of N, the cell, elapsed and remaining.
struct ProgressLine {
    let enabled: Bool

    func show(_ p: SuiteRunner.Progress) {
        guard enabled else { return }
        Console.errorRaw("\r\u{1B}[K[\(p.run)/\(p.runs)] \(p.cell), repetition \(p.repetition) | "
            + "\(clock(p.elapsedSeconds)) elapsed, about \(clock(p.remainingSeconds)) left")
    }

    func finish() { if enabled { Console.errorRaw("\r\u{1B}[K") } }

    private func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
