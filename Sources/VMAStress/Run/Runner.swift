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

    /// Runs `config`, which `validate()` has accepted.
    public static func run(_ config: RunConfig) throws -> RunResult {
        guard let entry = StrategyRegistry.named(config.strategy) else {
            throw Failure(description: "unknown strategy '\(config.strategy)'")
        }
        return try entry.run(config)
    }

    static func run<S: Strategy>(_: S.Type, _ config: RunConfig) throws -> RunResult {
        let layout = config.layout
        let topology = Topology.current()
        let plan: PlacementPlan
        do {
            plan = try Placement.plan(config.placement, topology: topology, faulters: config.faulters, mutators: config.mutators)
        } catch {
            throw Failure(description: "\(error)")
        }
        // --mms: address spaces sharing one VMA cache (and the short-lived ones of --mm-churn).
        let caches = MMCaches(vmas: layout.maxVMAs * config.mms + (config.mmChurn ? 2 * MMChurn.maxVMAs : 0),
                              mms: config.mms + (config.mmChurn ? 1 : 0), memory: plan.memory)
        let mms = (0..<config.mms).map { _ in
            MM(pages: layout.totalPages, maxVMAs: layout.maxVMAs, index: config.indexKind, memory: plan.memory, caches: caches)
        }
        let strategies = mms.map { S(mm: $0) }
        let mm = mms[0]
        // The kernel backend has no model store to compare: it checks what the kernel promises itself.
        let models = mms.map { _ in config.check == .full && !S.info.isKernel ? MappingModel(pages: layout.totalPages) : nil }
        let log = ViolationLog(strategy: S.info.name, seed: config.seed, reproduce: config.commandLine,
                               keepGoing: config.keepGoing)
        let stallNanos = UInt64(config.stallTimeoutSeconds * 1e9)

        // The set-up runs on a thread of its own, so that one looping on a corrupt index is a STALL, not a hang.
        let setUp = FindingsBox()
        let setUpDone = bounded("set-up", nanos: stallNanos) {
            setUp.findings = strategies.indices.flatMap { populate(strategies[$0], config, models[$0]) }
        }
        if setUpDone {
            mms.forEach { $0.probes.clearAnnouncement() }
            // A set-up that broke the index disagrees with the model too: TREE, the cause, goes first.
            for f in (setUp.findings.isEmpty ? [] : mms.flatMap { Audit.tree($0) }) + setUp.findings { log.report(f, thread: "set-up") }
        } else {
            log.report(Finding(.stall, expected: "the set-up (populating the address space) ends within \(config.stallTimeoutSeconds) s",
                               seen: "it was still running; no worker was started"), thread: "set-up")
        }
        let files: [MappedFile]
        do {
            files = try TaskFiles.open(config.workload, faulters: config.faulters, kernel: S.info.isKernel)
        } catch {
            throw Failure(description: "\(error)")
        }
        defer { TaskFiles.close(files) }
        let control = RunControl(workers: config.workers + (config.mmChurn ? 1 : 0))
        let workers = (0..<config.faulters).map { WorkerStats(name: "faulter-\($0)", role: .faulter, index: $0) }
            + (0..<config.mutators).map { WorkerStats(name: "mutator-\($0)", role: .mutator, index: $0) }
            + (config.mmChurn ? [WorkerStats(name: "mm-churn", role: .mmChurn, index: 0)] : [])
        for w in workers where w.role != .mmChurn {
            w.plannedCPUs = w.role == .faulter ? plan.faulters[w.index] : plan.mutators[w.index]
        }
        let checkerPlacement = WorkerStats(name: "checker", role: .checker, index: 0)
        checkerPlacement.plannedCPUs = plan.checker
        let nsPerTick = Clock.calibrateTicks()
        let envs = models.map { model in
            WorkerEnv(control: control, log: log, layout: layout, mix: config.mix.scaledForTakeAllLocks(vmas: config.vmas),
                      nsPerTick: nsPerTick, sampleMask: UInt64(config.faultSampleEvery - 1),
                      check: config.check, perturbation: config.perturbation, workload: config.workload,
                      regionThreads: config.faulters, stallNanos: stallNanos, mutationRate: config.mutationRate, files: files, model: model)
        }
        config.faultWork.install(nsPerTick: nsPerTick)
        for m in mms {
            m.probes.delays.setEnabled(config.check == .full)
            m.evidence.setAuditsHoles(config.check != .off)
        }
        let checker = Checker(
            mms: mms, control: control, log: log, workers: workers,
            intervalNanos: config.check == .off ? 0 : UInt64(config.checkpointIntervalSeconds * 1e9),
            stallTimeoutNanos: stallNanos, models: models,
            quiesce: { strategies.forEach { $0.quiesce() } },
            strategyFindings: { strategies.flatMap { $0.takeFindings() } })
        checker.stutterEvery = UInt64(config.perturbation.stutterSeconds * 1e9)
        checker.stutterHold = config.perturbation.stutterHoldNanos

        var threads: [OSThread] = []
        var hogs: CPUHogs?
        let watchdog = Watchdog(checker: checker)
        var checkerThread: OSThread?, watchdogThread: OSThread?
        do {
            hogs = try CPUHogs(count: setUpDone ? config.perturbation.hogs : 0)
            for w in workers where setUpDone {
                // Workers are dealt to the mms in turn. The mms run one program, as forked workers
                // do: each starts with the same mappings and its k-th worker has the same seed, so
                // a record one mm frees is soon allocated by another for the same range.
                // --lockstep: each mutator makes every mutation in mm 0, then in each other mm.
                let inStep = config.lockstep && w.role == .mutator
                let home = inStep ? 0 : w.index % config.mms, rank = inStep ? w.index : w.index / config.mms
                let seed = config.seed &+ UInt64(w.role == .faulter ? rank : 1000 + rank) &* 0x9E37_79B9
                let s = strategies[home], env = envs[home]
                let mirrors = inStep ? (1..<config.mms).map { (strategies[$0], envs[$0]) } : []
                threads.append(try OSThread.spawn(name: w.name) {
                    w.applyPlacement()
                    switch w.role {
                    case .faulter where config.processes: taskLoop(s, w, env, inThread: false)
                    case .faulter where S.info.isKernel && config.workload.runsInProcesses: taskLoop(s, w, env, inThread: true)
                    case .faulter where config.workload.privateRegions: regionLoop(s, w, env, seed: seed)
                    case .faulter: faulterLoop(s, w, env, seed: seed)
                    case .mutator: mutatorLoop(s, w, env, seed: seed, mirrors: mirrors)
                    case .mmChurn:
                        mmChurnLoop(S.self, w, env, caches: caches, index: config.indexKind, memory: plan.memory, seed: seed)
                    case .checker: break
                    }
                })
            }
            // A verdict needs both: without the watchdog a hang is not a STALL, without the checker nothing is audited.
            if setUpDone {
                checkerThread = try OSThread.spawn(name: "checker") {
                    checkerPlacement.applyPlacement()
                    checker.run()
                    noteCPU(checkerPlacement.cpusSeen)
                }
                watchdogThread = try OSThread.spawn(name: "watchdog") { watchdog.run() }
            }
        } catch {
            _ = hogs?.stop()
            checker.stop()
            watchdog.stop()
            checkerThread?.join()
            control.stopAll()
            threads.forEach { $0.join() }
            throw Failure(description: "\(error)")
        }

        let shuffler = config.perturbation.shuffleSeconds > 0
            ? Shuffler(threads: threads, cpus: allowedCPUsOfThisThread(), everyNanos: UInt64(config.perturbation.shuffleSeconds * 1e9))
            : nil
        let shufflerThread = try shuffler.map { s in try OSThread.spawn(name: "shuffler") { s.run() } }

        // Warm up, then measure; a violation (unless --keep-going), a stall or a stop signal ends either early.
        let shouldStop = { !setUpDone || log.shouldStop || checker.didStall || vms_stop_signal() != 0 }
        let started = Clock.nanos()
        var finished = Clock.sleep(until: started + UInt64(config.warmupSeconds * 1e9), unless: shouldStop)
        var usage0 = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage0)
        let t0 = Clock.nanos()
        control.startMeasuring()
        if finished {
            let end = t0 + UInt64(config.durationSeconds * 1e9)
            if config.statIntervalSeconds > 0 {
                let every = UInt64(config.statIntervalSeconds * 1e9)
                var next = t0 + every
                while finished && next < end {
                    finished = Clock.sleep(until: next, unless: shouldStop)
                    if finished {
                        Console.out(statLine(Double(next - t0) / 1e9, workers, log, checker, DeferredFreeStats.sum(strategies.map(\.deferredStats))))
                    }
                    next += every
                }
            }
            if finished { finished = Clock.sleep(until: end, unless: shouldStop) }
        }
        let t1 = Clock.nanos()

        checker.stop()
        watchdog.stop()
        // A checker stuck in a checkpoint was reported by the watchdog: wait for it only briefly.
        let checkerWait = checker.didStall ? 1000 : Int(config.stallTimeoutSeconds * 1000) + 1000
        let checkerStuck = !(checkerThread?.join(timeoutMilliseconds: checkerWait) ?? true)
        watchdogThread?.join()
        shuffler?.stop()
        shufflerThread?.join()
        let hogSpins = hogs?.stop() ?? 0
        control.stopAll()
        let joinWait = Int(config.stallTimeoutSeconds * 1000) + 1000
        let joinDeadline = Clock.nanos() + UInt64(joinWait) * 1_000_000
        let stuck = threads.filter {
            !$0.join(timeoutMilliseconds: Int((joinDeadline - min(Clock.nanos(), joinDeadline)) / 1_000_000))
        }
        var usage1 = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage1)

        if !stuck.isEmpty && !checker.didStall {
            log.report(Finding(.stall, expected: "every worker stops within \(joinWait) ms of being told to",
                               seen: stuck.map(\.name).joined(separator: ", ") + " still running"), thread: "harness")
        }
        if checkerStuck && !checker.didStall {
            log.report(Finding(.stall, expected: "the checker stops within \(checkerWait) ms of being told to",
                               seen: "it is still in a checkpoint, \(checker.phase)"), thread: "harness")
        }
        var abandoned = !stuck.isEmpty || checkerStuck || !setUpDone
        if !abandoned {
            // Final audit, after every deferred free has run; bounded like the rest (a grace period may never end).
            let final = FindingsBox()
            abandoned = !bounded("final-audit", nanos: stallNanos) {
                strategies.forEach { $0.quiesce() }
                final.findings = Checker.audit(mms, underflowsBefore: checker.underflowsAtStart, models: models)
                    + strategies.flatMap { $0.takeFindings() }
            }
            if abandoned {
                log.report(Finding(.stall, expected: "the final barrier and audit end within \(config.stallTimeoutSeconds) s",
                                   seen: "they were still running (a grace period that does not end, or an audit looping on a corrupt index)"),
                           thread: "harness")
            } else {
                for f in final.findings { log.report(f, thread: "final") }
            }
        }

        if config.check != .off {
            for f in unreportedOutcomes(workers, log) { log.report(f, thread: "self-check") }
        }
        let signal = vms_stop_signal()
        var result = summarise(
            config: config, workers: workers, log: log, checker: checker, mms: mms,
            wallNanos: t1 - t0, pausedNanos: control.pausedNanos, usage: (usage0, usage1))
        result.placement = PlacementSummary(
            request: config.placement, plan: plan,
            threads: (workers + (checkerThread == nil ? [] : [checkerPlacement])).map {
                ThreadPlacement(thread: $0.name, planned: $0.plannedCPUs.map(CPUList.format),
                                affinity: CPUList.format($0.affinity), ranOn: CPUList.format($0.cpusSeenList))
            },
            memory: abandoned ? [] : mm.residency())
        result.deferredFree = DeferredFreeStats.sum(strategies.map(\.deferredStats))
        if config.mms > 1 || config.mmChurn {
            result.mms = MMSummary(count: config.mms, destroyed: caches.mms.destroyedCount,
                                   writerWakeups: caches.mms.writerWakeups)
        }
        if !config.perturbation.isNone {
            result.perturbations = PerturbationCounts(stutters: checker.stutters, shuffles: shuffler?.moves ?? 0,
                                                      hogSpins: config.perturbation.hogs > 0 ? hogSpins : nil)
        }
        if watchdog.quitDumps > 0 { result.quitDumps = watchdog.quitDumps }
        if signal != 0 && log.count == 0 {
            result.verdict = .interrupted
            result.interruptedBy = stopSignalName()
        }
        // Stuck threads may still touch the mm: leave it (the process is about to report and exit).
        if !abandoned {
            strategies.forEach { $0.shutdown() }
            control.destroy()
            mms.forEach { $0.destroy() }
            caches.destroy()
        }
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

    static func summarise(config: RunConfig, workers: [WorkerStats], log: ViolationLog, checker: Checker, mms: [MM],
                          wallNanos: UInt64, pausedNanos: UInt64, usage: (rusage, rusage)) -> RunResult {
        let measured = Double(wallNanos - min(pausedNanos, wallNanos)) / 1e9
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
        var outcomes: [String: UInt64] = [:]
        for o in FaultResult.Kind.allCases { outcomes[o.name] = workers.reduce(0) { $0 + $1.outcome(o) } }
        var events: [String: UInt64] = [:]
        for e in FaultEvent.allCases {
            let n = workers.reduce(0) { $0 + $1.event(e) }
            if n > 0 { events[e.name] = n }
        }
        let threads = workers.map { w in
            ThreadSummary(
                name: w.name, role: w.role, ops: OpKind.allCases.reduce(0) { $0 + w.done($1) + w.failed($1) },
                userSeconds: seconds(w.usageEnd.ru_utime) - seconds(w.usageStart.ru_utime),
                systemSeconds: seconds(w.usageEnd.ru_stime) - seconds(w.usageStart.ru_stime),
                voluntaryContextSwitches: w.usageEnd.ru_nvcsw - w.usageStart.ru_nvcsw,
                involuntaryContextSwitches: w.usageEnd.ru_nivcsw - w.usageStart.ru_nivcsw,
                minorFaults: w.usageEnd.ru_minflt - w.usageStart.ru_minflt)
        }
        let (u0, u1) = usage
        var process = ProcessUsage(
            userSeconds: seconds(u1.ru_utime) - seconds(u0.ru_utime),
            systemSeconds: seconds(u1.ru_stime) - seconds(u0.ru_stime),
            voluntaryContextSwitches: u1.ru_nvcsw - u0.ru_nvcsw,
            involuntaryContextSwitches: u1.ru_nivcsw - u0.ru_nivcsw,
            peakRSSKiB: u1.ru_maxrss, minorFaults: u1.ru_minflt - u0.ru_minflt)
        if config.processes {
            // The worker processes' own use (their proxies' summaries carry it); peak RSS stays this process's.
            for t in threads where t.role == .faulter {
                process.userSeconds += t.userSeconds
                process.systemSeconds += t.systemSeconds
                process.voluntaryContextSwitches += t.voluntaryContextSwitches
                process.involuntaryContextSwitches += t.involuntaryContextSwitches
                process.minorFaults += t.minorFaults
            }
        }
        var present = 0
        for mm in mms { mm.pageTable.forEachPresent { _, _ in present += 1 } }
        let mm = mms[0]
        let violations = log.all
        var result = RunResult(
            strategy: config.strategy, config: config, reproduce: config.commandLine,
            verdict: log.count == 0 ? .success : .failure, interruptedBy: nil,
            wallSeconds: Double(wallNanos) / 1e9, measuredSeconds: measured,
            ops: ops, faultOutcomes: outcomes, faultEvents: events, threads: threads, process: process,
            checker: CheckerSummary(checkpoints: checker.checkpoints,
                                    invariantsChecked: StrategyRegistry.named(config.strategy)?.info.isKernel == true
                                        ? (config.check == .off ? [] : [.stable, .mapping])
                                        : (config.check == .off ? [] : [.stable])
                                        + (config.check == .full ? [.mapping] : [])
                                        + (events.isEmpty || config.check == .off ? [] : [.uaf, .torn, .pipe])
                                        + (StrategyRegistry.named(config.strategy)?.isTypeSafe != true || config.check == .off ? [] : [.reuse])
                                        + Checker.checkpointInvariants,
                                    violationCount: log.count),
            store: StoreSummary(vmasAtEnd: mms.reduce(0) { $0 + $1.list.count }, vmaAllocations: mm.vmas.allocations,
                                vmaFrees: mm.vmas.frees, pageTablePages: mms.reduce(0) { $0 + $1.pageTable.tablesAllocated },
                                presentPTEsAtEnd: present),
            violations: violations)
        result.histograms = histograms
        result.index = config.indexKind
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

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
}

/// Findings handed back from a bounded helper thread (read only after it was joined).
final class FindingsBox: @unchecked Sendable {
    var findings: [Finding] = []
}
