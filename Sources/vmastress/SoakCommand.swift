import ArgumentParser
import CSupport
import Foundation
import VMAStress

struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Minutes of randomised stress with the checker on, for CI: a clear SUCCESS or FAILURE.",
        discussion: """
            Rotates through phases until --duration is up. Each phase runs one strategy (in turn) \
            with a workload, thread shape (up to 8 threads per core), RCU flavor, index and \
            perturbations (stutter, shuffle, long reads, writer bursts, CPU hogs) drawn from --seed, with \
            --check full. Prints '--- Start of test:' with every parameter, each phase's \
            'vmastress run' command before it runs, a stat line after it, and \
            '--- End of test: SUCCESS|FAILURE|INTERRUPTED'. A failing phase ends the soak \
            (unless --keep-going) and its command line reproduces it alone. RSS is sampled \
            every second and after every phase; RSS after phases that rises steadily by more \
            than --rss-limit fails the soak.
            Until the end the --json file says INCOMPLETE. \
            Exit codes: 0 SUCCESS, 1 FAILURE, 2 usage error, 3 runtime error, 128+N \
            interrupted by signal N (129 SIGHUP, 130 SIGINT, 143 SIGTERM; the summary so far is \
            printed and written).
            """)

    @Option(parsing: .unconditional, help: "How long the whole soak runs, like 2m, 10m, 1h.")
    var duration = "10m"

    @Option(parsing: .unconditional, help: "Length of one phase (the last may be shorter).")
    var phase = "15s"

    @Option(parsing: .unconditional, help: "Seed the phases are drawn from (default: chosen from the clock and printed).")
    var seed: UInt64?

    @Option(help: "Strategies to rotate through, comma-separated (default: every correct one).")
    var strategy: String?

    @Option(help: "Add busted twins to the rotation, comma-separated ('vmastress strategies --busted' lists them).")
    var includeBusted: String?

    @Option(help: "Workloads to draw from, comma-separated (default: all but the 128 MiB will-it-scale testcases: page_fault1-3, mmap1, mmap2).")
    var workload: String?

    @Flag(help: "Go on after a failing phase instead of ending the soak.")
    var keepGoing = false

    @Option(parsing: .unconditional, help: "Fail when RSS after phases grows steadily by more than this many MiB.")
    var rssLimit = 16

    @Option(parsing: .unconditional, help: "Stat lines inside each phase this often (0: only after each phase).")
    var statInterval = "0s"

    @Option(help: "Write the summary as JSON to this file (atomically, after every phase and at the end).")
    var json: String?

    @Option(help: "Write a JUnit XML report to this file (atomically, after every phase and at the end; an error case until the soak finishes).")
    var junit: String?

    static let maxRSSLimitMiB = 1 << 20

    func options(seed: UInt64) throws -> Soak.Options {
        let correct = StrategyRegistry.correct.map(\.info.name)
        // The soak's subject is the model: a backend without the model store (the kernel) runs only when named.
        var names = try strategy.map { try list($0, "--strategy") }
            ?? StrategyRegistry.correct.filter { $0.capabilities.contains(.modelStore) }.map(\.info.name)
        for n in names where !correct.contains(n) {
            throw ValidationError(StrategyRegistry.named(n) == nil
                ? "unknown strategy '\(n)'; 'vmastress strategies' lists them"
                : "'\(n)' is a busted twin: add it with --include-busted")
        }
        for n in try includeBusted.map({ try list($0, "--include-busted") }) ?? [] {
            guard let e = StrategyRegistry.named(n), e.info.breaks != nil else {
                throw ValidationError("'\(n)' is not a busted twin; 'vmastress strategies --busted' lists them")
            }
            names.append(n)
        }
        let workloads = try workload.map { text in
            try list(text, "--workload").map { w in
                guard let k = Workload(rawValue: w) else {
                    throw ValidationError("unknown workload '\(w)': \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return k
            }
        } ?? Workload.soakDefault
        var plan = SoakPlan(seed: seed, strategies: names.compactMap(StrategyRegistry.named), workloads: workloads,
                            phaseSeconds: try DurationText.seconds(phase))
        guard plan.phaseSeconds >= 2 else { throw ValidationError("--phase must be at least 2s") }
        plan.statIntervalSeconds = try DurationText.seconds(statInterval)
        var o = Soak.Options(plan: plan, durationSeconds: try DurationText.seconds(duration))
        guard o.durationSeconds > 0 else { throw ValidationError("--duration must be more than zero") }
        guard (1...Self.maxRSSLimitMiB).contains(rssLimit) else {
            throw ValidationError("--rss-limit must be between 1 and \(Self.maxRSSLimitMiB) (MiB)")
        }
        o.keepGoing = keepGoing
        o.rssLimitKiB = rssLimit * 1024
        o.tool = "vmastress \(VMAStressCommand.configuration.version)"
        // Every phase this plan can draw must be a valid run.
        for i in 0..<(names.count * 8) { try plan.phase(i, seconds: 2, cores: o.cores).validate() }
        return o
    }

    private func list(_ text: String, _ option: String) throws -> [String] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, !items.contains("") else { throw ValidationError("\(option) needs a comma-separated list") }
        return items
    }

    func validate() throws {
        if ParsePass.skipsChecks { return }
        try usageChecks {
            _ = try options(seed: 1)
            if let json { try AtomicFile.checkWritable(json) }
            if let junit { try AtomicFile.checkWritable(junit) }
            if let json, let junit, PathText.sameFile(json, junit) {
                throw ValidationError("--json and --junit name the same file (\(junit)); each would overwrite the other")
            }
        }
    }

    func run() throws {
        let options = try self.options(seed: seed ?? UInt64(Clock.nanos() % 1_000_000_007))
        vms_install_stop_signals()
        let result: SoakResult
        do {
            result = try Soak.run(options, say: { Console.out($0) }, checkpoint: { s in try? writeOutputs(s) })
        } catch {
            throw Exit(status: ExitStatus.runtime, message: "\(error)")
        }
        do {
            try writeOutputs(result)
        } catch {
            throw Exit(status: ExitStatus.runtime, message: "\(error)")
        }
        switch result.verdict {
        case .failure: throw Exit(status: ExitStatus.violation, message: nil)
        case .interrupted, .incomplete: throw Exit(status: ExitStatus.interrupted(by: vms_stop_signal()), message: nil)
        case .success: break
        }
    }

    private func writeOutputs(_ s: SoakResult) throws {
        if let json { try AtomicFile.writeJSON(s, to: json) }
        if let junit { try AtomicFile.write(Data(JUnit.xml(s).utf8), to: junit) }
    }
}
