import CSupport
import Foundation
import Glibc

/// `vmastress soak`: phases of randomised stress, each one `Runner.run` with
/// its own strategy, workload, threads, RCU flavor, index and perturbations,
/// until the time is up, a phase fails (unless `keepGoing`) or a stop signal
/// arrives. RSS is watched throughout.
public enum Soak {
    public struct Options: Sendable {
        public var plan: SoakPlan
        public var durationSeconds: Double
        public var keepGoing = false
        public var rssLimitKiB = 16 * 1024
        public var cores = Topology.current().allowedCPUs.count
        public var tool = "vmastress"

        public init(plan: SoakPlan, durationSeconds: Double) {
            self.plan = plan
            self.durationSeconds = durationSeconds
        }
    }

    /// Shortest phase worth starting (warm-up aside).
    static let shortestPhaseSeconds = 2.0

    /// Runs the soak. `say` gets every line for standard output; `checkpoint`
    /// gets the summary so far after every phase (to write it to disk).
    public static func run(_ o: Options, say: (String) -> Void, checkpoint: (SoakResult) -> Void) throws -> SoakResult {
        let plan = o.plan
        let startLine = Self.startLine(o)
        say(startLine)

        let sampler = RSSSampler()
        try sampler.start()
        let started = Clock.nanos()
        let deadline = started + UInt64(o.durationSeconds * 1e9)
        let elapsed = { Double(Clock.nanos() - started) / 1e9 }
        var totals = SoakTotals()
        var phases: [SoakPhaseResult] = []
        var failures: [String] = []
        var interruptedBy: String?
        var rssAfter: [Int] = []

        func summary(final: Bool) -> SoakResult {
            let verdictRSS = RSSVerdict.judge(afterPhasesKiB: rssAfter, warmupPhases: plan.strategies.count,
                                              limitKiB: o.rssLimitKiB)
            var fails = failures
            if final && verdictRSS.growing { fails.append("RSS: " + verdictRSS.reason) }
            // Between phases the file says INCOMPLETE: a soak killed there never reads as a SUCCESS.
            let verdict: RunResult.Verdict = !fails.isEmpty ? .failure : interruptedBy != nil ? .interrupted : final ? .success : .incomplete
            let samples = sampler.samples
            var end = "--- End of test: \(verdict.rawValue): soak \(String(format: "%.1f", elapsed())) s of "
                + "\(DurationText.format(o.durationSeconds)), seed \(plan.seed), \(totals.phases) phase(s), "
                + "\(totals.failedPhases) failed, faults \(totals.faults), mutations \(totals.mutations), "
                + "checkpoints \(totals.checkpoints), violations \(totals.violations), "
                + "RSS \(verdictRSS.judged ? (verdictRSS.growing ? "growing" : "steady") : "not judged")"
            if let interruptedBy { end += ", interrupted by \(interruptedBy)" }
            if let first = phases.first(where: { $0.verdict == .failure }) { end += "; reproduce: \(first.reproduce)" }
            return SoakResult(
                tool: o.tool, createdAt: ISO8601DateFormatter().string(from: Date()), machine: .current(), plan: plan,
                durationSeconds: o.durationSeconds, verdict: verdict, interruptedBy: interruptedBy, elapsedSeconds: elapsed(),
                startLine: startLine, endLine: end, totals: totals, phases: phases, failures: fails,
                rss: RSSReport(limitKiB: o.rssLimitKiB, peakKiB: samples.map(\.kib).max() ?? 0, samples: samples,
                               verdict: verdictRSS))
        }

        checkpoint(summary(final: false))
        var i = 0
        while vms_stop_signal() == 0 {
            let left = Double(deadline - min(Clock.nanos(), deadline)) / 1e9 - plan.warmupSeconds - 0.3
            if left < Self.shortestPhaseSeconds && i > 0 { break }
            // A shortened last phase is cut to a tenth of a second, so its reproducer reads well.
            let seconds = max(Self.shortestPhaseSeconds, (min(plan.phaseSeconds, left) * 10).rounded(.down) / 10)
            let phase = try plan.phase(i, seconds: seconds, cores: o.cores).resolve()
            let config = phase.config
            let at = elapsed()
            say("phase \(i) at \(String(format: "%.1f", at)) s: \(config.commandLine)")
            let r = try phase.run()
            let rss = RSS.settledKiB()
            rssAfter.append(rss)
            let p = SoakPhaseResult(i, phase, r, startedAt: at, wallSeconds: elapsed() - at, rssAfterKiB: rss)
            phases.append(p)
            totals.add(p)
            if r.verdict == .failure {
                let first = r.violations.first.map { "\($0.invariant.rawValue): expected \($0.expected); seen \($0.seen)" }
                    ?? "\(r.checker.violationCount) violation(s)"
                failures.append("phase \(i) (\(config.strategy), \(config.workload.rawValue)): \(first)")
                say("FAILURE in phase \(i): \(r.checker.violationCount) violation(s); reproduce alone with:\n    \(config.commandLine)")
                for v in r.violations.prefix(3) { say(v.text) }
            }
            say("stat \(String(format: "%.1f", elapsed())) s: phase \(i) \(r.verdict.rawValue) "
                + "(\(config.strategy), \(config.workload.rawValue), \(config.faulters)f\(config.mutators)m); "
                + "totals: phases \(totals.phases), failed \(totals.failedPhases), faults \(totals.faults), "
                + "mutations \(totals.mutations), checkpoints \(totals.checkpoints), stutters \(totals.stutters), "
                + "shuffles \(totals.shuffles), violations \(totals.violations); RSS \(rss / 1024) MiB")
            if let why = r.interruptedBy {
                interruptedBy = why
                break
            }
            checkpoint(summary(final: false))
            if r.verdict == .failure && !o.keepGoing { break }
            i += 1
        }
        if interruptedBy == nil { interruptedBy = Runner.stopSignalName() }
        sampler.stop()
        let result = summary(final: true)
        if result.rss.verdict.growing { say("FAILURE: RSS " + result.rss.verdict.reason) }
        say(result.endLine)
        return result
    }

    /// The soak's first line: everything it will rotate through.
    static func startLine(_ o: Options) -> String {
        let plan = o.plan
        return "--- Start of test: soak duration=\(DurationText.format(o.durationSeconds)) "
            + "phase=\(DurationText.format(plan.phaseSeconds)) seed=\(plan.seed) "
            + "strategies=\(plan.strategies.joined(separator: ",")) "
            + "workloads=\(plan.workloads.map(\.rawValue).joined(separator: ",")) "
            + "threads=\(SoakPlan.threadShapes(cores: o.cores).map { "\($0.faulters)f\($0.mutators)m" }.joined(separator: ",")) "
            + "rcu-flavors=\(RCUFlavorKind.allCases.map(\.rawValue).joined(separator: ",")) indexes=rbtree,btree "
            + "perturbations=stutter,shuffle,long-reads,writer-bursts,hogs,preempt check=full "
            + "keep-going=\(o.keepGoing) rss-limit=\(o.rssLimitKiB / 1024)MiB"
    }
}

extension SoakPhaseResult {
    /// Phase `i`'s line of the summary, from its plan and its run.
    init(_ i: Int, _ phase: RunPlan, _ r: RunResult, startedAt: Double, wallSeconds: Double, rssAfterKiB: Int) {
        let config = phase.config
        self.init(
            phase: i, strategy: config.strategy, workload: config.workload, faulters: config.faulters,
            mutators: config.mutators, index: phase.index,
            rcuFlavor: phase.info.usesRCU ? config.rcuFlavor : nil,
            perturbations: config.perturbation.commandLineWords, seed: config.seed, verdict: r.verdict,
            startedAtSeconds: startedAt, wallSeconds: wallSeconds, faults: r.op(.fault)?.count ?? 0,
            mutations: r.ops.filter { op in OpKind.mutations.contains { $0.name == op.op } }.reduce(UInt64(0)) { $0 + $1.count },
            checkpoints: r.checker.checkpoints, stutters: r.perturbations?.stutters ?? 0,
            shuffles: r.perturbations?.shuffles ?? 0, violationCount: r.checker.violationCount,
            violations: Array(r.violations.prefix(10)), reproduce: config.commandLine, rssAfterKiB: rssAfterKiB)
    }
}

extension SoakTotals {
    mutating func add(_ p: SoakPhaseResult) {
        phases += 1
        faults += p.faults
        mutations += p.mutations
        checkpoints += p.checkpoints
        stutters += p.stutters
        shuffles += p.shuffles
        violations += p.violationCount
        if p.verdict == .failure { failedPhases += 1 }
    }
}
