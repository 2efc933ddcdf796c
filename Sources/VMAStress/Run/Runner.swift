import CSupport
import Foundation
import Glibc
import Histogram

/// One run: set up the mm, start faulters, mutators and the checker on OS
/// threads, warm up, measure, stop, audit once more, and summarise.
public enum Runner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `config`, resolved first.
    public static func run(_ config: RunConfig) throws -> RunResult { try config.resolve().run() }

    /// Runs `plan`.
    public static func run(_ plan: RunPlan) throws -> RunResult { try plan.run() }

    /// Runs `config` on `S`, registered or not (tests' own strategies).
    public static func run<S: Strategy>(_: S.Type, _ config: RunConfig) throws -> RunResult {
        try run(S.self, RunPlan(config, entry: StrategyEntry(S.self)))
    }

    static func run<S: Strategy>(_: S.Type, _ plan: RunPlan) throws -> RunResult {
        try run(plan) { mms in RunStrategies.of(mms.map { S(mm: $0) }) }
    }

    /// The run itself, without the strategy's type: assembly, threads, the
    /// measured window, the stop and the final audit, the summary.
    static func run(_ plan: RunPlan, making: ([MM]) -> RunStrategies) throws -> RunResult {
        let a = try RunAssembly(plan, making: making)
        let started = try a.startThreads()
        let window = a.measure(started)
        let stopped = a.stop(started)
        let signal = vms_stop_signal()
        var result = summarise(plan, workers: a.workers, log: a.log, checker: a.checker, mms: a.mms,
                               wallNanos: window.t1 - window.t0, pausedNanos: a.control.pausedNanos,
                               usage: (window.usage0, stopped.usage), cutShort: signal != 0 || stopped.abandoned)
        a.annotate(&result, started, stopped)
        if signal != 0 && result.verdict == .success {
            result.verdict = .interrupted
            result.interruptedBy = stopSignalName()
        }
        // Stuck threads may still touch the mm: leave it (the process is about to report and exit).
        if !stopped.abandoned { a.destroy() }
        return result
    }

    /// Runs `body` on a thread of its own and waits for it at most `nanos`:
    /// false when it is still running then (it is left to run; the caller
    /// reports a STALL and leaves what it touches alone).
    static func bounded(_ name: String, nanos: UInt64, _ body: @escaping @Sendable () -> Void) -> Bool {
        guard let t = try? OSThread.spawn(name: name, body) else {
            body()
            return true
        }
        return t.join(timeoutMilliseconds: Int(nanos / 1_000_000))
    }

    /// The stop signal that arrived, by name (nil while none has): what
    /// results record as `interruptedBy`.
    public static func stopSignalName() -> String? {
        let signal = vms_stop_signal()
        switch signal {
        case 0: return nil
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }

    /// rcutorture's periodic line: operations so far, violations, checkpoints,
    /// the deferred-free backlog and the reader pipe (a racy snapshot of
    /// counters the workers are still writing).
    static func statLine(_ at: Double, _ workers: [WorkerStats], _ log: ViolationLog, _ checker: Checker,
                         _ deferred: DeferredFreeStats?) -> String {
        let progress = { (role: WorkerStats.Role) in
            workers.filter { $0.role == role }.reduce(UInt64(0)) { $0 + $1.progress.pointee.load(ordering: .relaxed) }
        }
        var line = "stat \(String(format: "%.1f", at)) s: faults \(progress(.faulter)), mutations \(progress(.mutator)), "
            + "violations \(log.count), checkpoints \(checker.checkpoints)"
        if let d = deferred { line += ", backlog \(d.pending) (\(d.pendingBytes / 1024) KiB)" }
        let pipe = (0..<FaultContext.pipeBuckets).map { b in
            workers.reduce(UInt64(0)) { $0 + UnsafeRawPointer($1.counters + WorkerStats.pipeBase + b).load(as: UInt64.self) }
        }
        if pipe.contains(where: { $0 > 0 }) { line += ", Reader Pipe: " + pipe.map(String.init).joined(separator: " ") }
        return line
    }

    /// Maps the stable region, then fills about `initialChurnPercent` of the churn region.
    /// Returns what MAPPING's model found wrong with the set-up's own mappings.
    static func populate<S: Strategy>(_ s: S, _ config: RunConfig, _ model: MappingModel?) -> [Finding] {
        let scratch = WorkerStats(name: "populate", role: .mutator, index: 0)
        var ctx = scratch.faultContext()
        s.threadStart(&ctx)
        defer { s.threadStop(&ctx) }
        let layout = config.layout
        // flags 1: the stable region never merges with churn mappings.
        let stable = s.perform(.mmapFixed(layout.stable, .readWrite, flags: 1))
        var found = model?.apply(.mmapFixed(layout.stable, .readWrite, flags: 1), stable) ?? []
        if let n = config.vmas { return found + placeVMAs(n, s, layout.churn, model) }
        var rng = RNG(seed: config.seed ^ 0x5EED)
        let target = layout.churnPages * config.mix.initialChurnPercent / 100
        var mapped: UInt64 = 0
        var misses = 0
        while mapped < target && misses < 64 {
            let count = 1 + rng.below(config.mix.maxMutationPages)
            let prot = OpMix.churnProts[Int(rng.below(UInt64(OpMix.churnProts.count)))]
            let hint = layout.churn.start + rng.below(layout.churn.count)
            // Leave a page free before each mapping so neighbours stay separate VMAs.
            let r = s.perform(.mmap(count: count, prot: prot, within: layout.churn, hint: hint + 1))
            found += model?.apply(.mmap(count: count, prot: prot, within: layout.churn, hint: hint + 1), r) ?? []
            if r.status == .done {
                mapped += count
            } else {
                misses += 1
            }
        }
        return found
    }

    /// `--vmas`: `n` one-page VMAs spread evenly over `churn`, in address
    /// order, protections alternating so that no two merge.
    static func placeVMAs<S: Strategy>(_ n: Int, _ s: S, _ churn: PageRange, _ model: MappingModel?) -> [Finding] {
        let stride = churn.count / UInt64(n)
        var found: [Finding] = []
        for i in 0..<UInt64(n) {
            let op = MutationCall.mmapFixed(PageRange(start: churn.start + i * stride, count: 1), i % 2 == 0 ? .readWrite : .read, flags: 0)
            let r = s.perform(op)
            if let model { found += model.apply(op, r) }
        }
        return found
    }

    /// The verdict checks itself: a fault outcome of a violation kind that no report of its
    /// invariant accounts for is a report lost on its way to the verdict, which must fail the
    /// run (the outcomes line would show the evidence beside a SUCCESS).
    static func unreportedOutcomes(_ workers: [WorkerStats], _ log: ViolationLog) -> [Finding] {
        let kinds: [(FaultResult.Kind, Invariant)] = [(.stalePTE, .stalePTE), (.useAfterFree, .uaf), (.torn, .torn),
                                                      (.pipe, .pipe), (.reuse, .reuse)]
        return kinds.compactMap { kind, invariant in
            let n = workers.reduce(UInt64(0)) { $0 + $1.outcome(kind) }
            guard n > 0, log.count(of: invariant) == 0 else { return nil }
            return Finding(invariant, expected: "a \(invariant.rawValue) report for each of the \(n) '\(kind.name)' fault outcome(s) counted",
                           seen: "none was reported: the report was lost on its way to the verdict (an internal error of vmastress)")
        }
    }

    /// Each invariant's evaluations: the workers' inline checks (over the measured
    /// window), the audits after their mutations, the checkpoints' and the final
    /// audit's, and the backend's checks of its own calls.
    static func evaluations(_ workers: [WorkerStats], _ checker: Checker, _ mms: [MM]) -> Evaluations {
        var e = checker.evaluations
        for w in workers {
            for c in InlineCheck.allCases where w.evaluated(c) > 0 { e.add(c.invariant, w.evaluated(c)) }
            e.add(w.audited)
        }
        let calls = mms.reduce(UInt64(0)) { $0 + $1.evidence.callChecks }
        if calls > 0 { e.add(.mapping, calls) }
        return e
    }

    /// What the run's checks had to work on, for the invariants it can claim.
    /// STABLE judges the faults aimed at the stable region and the guard (a
    /// region worker's at its own pages): claimed when some were judged, or
    /// when at least `stableFaultsClaimed` were expected (a zero is then a
    /// check that did not run, not bad luck: (1 - p)^n below e^-50).
    static func auditRun(_ config: RunConfig, _ can: Capabilities, _ workers: [WorkerStats],
                         _ evaluations: Evaluations) -> AuditPlan.Run {
        let faults = workers.reduce(UInt64(0)) { $0 + $1.done(.fault) + $1.failed(.fault) }
        let aimedPercent = config.workload.spec.regions != nil ? 100 : config.mix.faultStablePercent + config.mix.faultGuardPercent
        let expected = Double(faults) * Double(min(aimedPercent, 100)) / 100
        return AuditPlan.Run(capabilities: can, check: config.check,
                             lockless: workers.contains { $0.event(.speculativeSuccess) > 0 },
                             stableFaults: evaluations[.stable] > 0 || expected >= stableFaultsClaimed,
                             mutated: workers.contains { w in OpKind.mutations.contains { w.done($0) > 0 } })
    }

    static let stableFaultsClaimed = 50.0

    /// The self-check of the checks: an invariant the run lists as checked and never
    /// evaluated (`AuditPlan.unevaluated`).
    static func unevaluatedClaims(_ run: AuditPlan.Run, _ evaluations: Evaluations) -> [Finding] {
        AuditPlan.unevaluated(run, evaluations).map { i in
            Finding(i, expected: "\(i.rawValue), which this run lists as checked, is evaluated at least once",
                    seen: "it was evaluated 0 times: its check never ran (an internal error of vmastress)")
        }
    }

    static func summarise(_ runPlan: RunPlan, workers: [WorkerStats], log: ViolationLog, checker: Checker, mms: [MM],
                          wallNanos: UInt64, pausedNanos: UInt64, usage: (rusage, rusage), cutShort: Bool = false) -> RunResult {
        let config = runPlan.config, can = runPlan.capabilities
        let measured = Double(wallNanos - min(pausedNanos, wallNanos)) / 1e9
        let (ops, histograms) = opSummaries(config, workers, measured: measured)
        var outcomes: [String: UInt64] = [:]
        for o in FaultResult.Kind.allCases { outcomes[o.name] = workers.reduce(0) { $0 + $1.outcome(o) } }
        var events: [String: UInt64] = [:]
        for e in FaultEvent.allCases {
            let n = workers.reduce(0) { $0 + $1.event(e) }
            if n > 0 { events[e.name] = n }
        }
        let threads = workers.map(threadSummary)
        let process = processUsage(config, usage, threads)
        var present = 0
        for mm in mms { mm.pageTable.forEachPresent { _, _ in present += 1 } }
        let mm = mms[0]
        // The self-check once more, past the log: a report the log lost (the self-check's own
        // among them) still fails the run.
        var lost = config.check == .off ? [] : unreportedOutcomes(workers, log).map { log.violation($0, thread: "self-check") }
        let evaluated = evaluations(workers, checker, mms), claims = auditRun(config, can, workers, evaluated)
        // A run stopped early or already failing may not have reached every check.
        if !cutShort && log.count == 0 && lost.isEmpty {
            lost = unevaluatedClaims(claims, evaluated).map { log.violation($0, thread: "self-check") }
        }
        let violations = log.all + lost
        var result = RunResult(
            strategy: config.strategy, config: config, reproduce: config.commandLine,
            verdict: log.count == 0 && lost.isEmpty ? .success : .failure, interruptedBy: nil,
            wallSeconds: Double(wallNanos) / 1e9, measuredSeconds: measured,
            ops: ops, faultOutcomes: outcomes, faultEvents: events, threads: threads, process: process,
            checker: CheckerSummary(checkpoints: checker.checkpoints, invariantsChecked: AuditPlan.checked(claims),
                                    violationCount: log.count + lost.count, evaluations: evaluated),
            store: StoreSummary(vmasAtEnd: mms.reduce(0) { $0 + $1.list.count }, vmaAllocations: mm.vmas.allocations,
                                vmaFrees: mm.vmas.frees, pageTablePages: mms.reduce(0) { $0 + $1.pageTable.tablesAllocated },
                                presentPTEsAtEnd: present),
            violations: violations)
        result.histograms = histograms
        result.index = runPlan.index
        result.capabilities = can
        result.readerPipe = (0..<FaultContext.pipeBuckets).map { b in workers.reduce(0) { $0 + $1.pipe(b) } }
        if config.check == .full {
            result.delayPoints = DelayPointCounts(
                read: ReadPoint.allCases.map { p in
                    .init(point: p.name, passes: workers.reduce(0) { $0 + $1.delayPasses(p) },
                          fired: workers.reduce(0) { $0 + $1.delayFired(p) })
                },
                write: WritePoint.allCases.map { p in
                    .init(point: p.name, passes: mms.reduce(0) { $0 + $1.probes.delays.passes(p) },
                          fired: mms.reduce(0) { $0 + $1.probes.delays.fired(p) })
                })
        }
        return result
    }

    /// Each operation's totals and merged latency histogram over the window
    /// (an operation the run could do is listed even at zero).
    static func opSummaries(_ config: RunConfig, _ workers: [WorkerStats], measured: Double)
        -> ([OpSummary], [String: Histogram<UInt64>]) {
        var ops: [OpSummary] = []
        var histograms: [String: Histogram<UInt64>] = [:]
        for kind in OpKind.allCases {
            var merged = WorkerStats.newHistogram()
            var count: UInt64 = 0, failed: UInt64 = 0
            for w in workers {
                count += w.done(kind)
                failed += w.failed(kind)
                merged.add(w.histograms[kind.rawValue])
            }
            guard count + failed > 0 || (kind == .fault && config.faulters > 0)
                || (OpKind.mutations.contains(kind) && config.mutators > 0) else { continue }
            ops.append(OpSummary(op: kind.name, count: count, failed: failed,
                                 opsPerSecond: measured > 0 ? Double(count) / measured : 0,
                                 latencyNs: LatencySummary(merged)))
            histograms[kind.name] = merged
        }
        return (ops, histograms)
    }

    static func threadSummary(_ w: WorkerStats) -> ThreadSummary {
        ThreadSummary(
            name: w.name, role: w.role, ops: OpKind.allCases.reduce(0) { $0 + w.done($1) + w.failed($1) },
            userSeconds: seconds(w.usageEnd.ru_utime) - seconds(w.usageStart.ru_utime),
            systemSeconds: seconds(w.usageEnd.ru_stime) - seconds(w.usageStart.ru_stime),
            voluntaryContextSwitches: w.usageEnd.ru_nvcsw - w.usageStart.ru_nvcsw,
            involuntaryContextSwitches: w.usageEnd.ru_nivcsw - w.usageStart.ru_nivcsw,
            minorFaults: w.usageEnd.ru_minflt - w.usageStart.ru_minflt)
    }

    /// The process's use over the window; with --processes, the worker processes' too
    /// (their proxies' summaries carry it; peak RSS stays this process's).
    static func processUsage(_ config: RunConfig, _ usage: (rusage, rusage), _ threads: [ThreadSummary]) -> ProcessUsage {
        let (u0, u1) = usage
        var process = ProcessUsage(
            userSeconds: seconds(u1.ru_utime) - seconds(u0.ru_utime),
            systemSeconds: seconds(u1.ru_stime) - seconds(u0.ru_stime),
            voluntaryContextSwitches: u1.ru_nvcsw - u0.ru_nvcsw,
            involuntaryContextSwitches: u1.ru_nivcsw - u0.ru_nivcsw,
            peakRSSKiB: u1.ru_maxrss, minorFaults: u1.ru_minflt - u0.ru_minflt)
        guard config.processes else { return process }
        for t in threads where t.role == .faulter {
            process.userSeconds += t.userSeconds
            process.systemSeconds += t.systemSeconds
            process.voluntaryContextSwitches += t.voluntaryContextSwitches
            process.involuntaryContextSwitches += t.involuntaryContextSwitches
            process.minorFaults += t.minorFaults
        }
        return process
    }

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
}

/// Findings handed back from a bounded helper thread (read only after it was joined).
final class FindingsBox: @unchecked Sendable {
    var findings: [Finding] = []
}
