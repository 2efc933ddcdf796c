import CSupport
import Glibc

/// One run's parts, set up from its plan: the mms and their strategies,
/// MAPPING's models, the workers' counters and environments, the checker.
/// `Runner.run` drives it through threads, window, stop and summary.
struct RunAssembly {
    let plan: RunPlan
    let placement: PlacementPlan
    let caches: MMCaches
    let mms: [MM]
    let strategies: RunStrategies
    let models: [MappingModel?]
    let log: ViolationLog
    let stallNanos: UInt64
    /// The set-up ended in time; without it no worker starts.
    let setUpDone: Bool
    let files: [MappedFile]
    let control: RunControl
    let workers: [WorkerStats]
    let envs: [WorkerEnv]
    let checker: Checker
    let checkerPlacement: WorkerStats
    let watchdog: Watchdog

    var config: RunConfig { plan.config }

    init(_ plan: RunPlan, making: ([MM]) -> RunStrategies) throws {
        let config = plan.config, layout = config.layout
        let placement: PlacementPlan
        do {
            placement = try Placement.plan(config.placement, topology: .current(), faulters: config.faulters, mutators: config.mutators)
        } catch {
            throw Runner.Failure(description: "\(error)")
        }
        // --mms: address spaces sharing one VMA cache (and the short-lived ones of --mm-churn).
        let caches = MMCaches(vmas: layout.maxVMAs * config.mms + (config.mmChurn ? 2 * MMChurn.maxVMAs : 0),
                              mms: config.mms + (config.mmChurn ? 1 : 0), memory: placement.memory)
        let mms = (0..<config.mms).map { _ in
            MM(pages: layout.totalPages, maxVMAs: layout.maxVMAs, index: plan.index, memory: placement.memory, caches: caches)
        }
        let strategies = making(mms)
        // A backend without the model store (the kernel) checks what it promises itself.
        let models = mms.map { _ in
            config.check == .full && plan.capabilities.contains(.modelStore) ? MappingModel(pages: layout.totalPages) : nil
        }
        let log = ViolationLog(strategy: plan.info.name, seed: config.seed, reproduce: config.commandLine, keepGoing: config.keepGoing)
        let stallNanos = UInt64(config.stallTimeoutSeconds * 1e9)
        setUpDone = Self.setUp(mms, strategies, models, config, log, stallNanos)
        let files: [MappedFile]
        do {
            files = try TaskFiles.open(config.workload, faulters: config.faulters, realFiles: plan.capabilities.contains(.realMappings))
        } catch {
            throw Runner.Failure(description: "\(error)")
        }
        let control = RunControl(workers: config.workers + (config.mmChurn ? 1 : 0))
        let workers = (0..<config.faulters).map { WorkerStats(name: "faulter-\($0)", role: .faulter, index: $0) }
            + (0..<config.mutators).map { WorkerStats(name: "mutator-\($0)", role: .mutator, index: $0) }
            + (config.mmChurn ? [WorkerStats(name: "mm-churn", role: .mmChurn, index: 0)] : [])
        for w in workers where w.role != .mmChurn {
            w.plannedCPUs = w.role == .faulter ? placement.faulters[w.index] : placement.mutators[w.index]
        }
        checkerPlacement = WorkerStats(name: "checker", role: .checker, index: 0)
        checkerPlacement.plannedCPUs = placement.checker
        let nsPerTick = Clock.calibrateTicks()
        envs = models.map { model in
            WorkerEnv(control: control, log: log, layout: layout, mix: config.mix.scaledForTakeAllLocks(vmas: config.vmas),
                      nsPerTick: nsPerTick, sampleMask: UInt64(config.faultSampleEvery - 1),
                      check: config.check, perturbation: config.perturbation, workload: config.workload,
                      regionThreads: config.faulters, stallNanos: stallNanos, mutationRate: config.mutationRate, files: files, model: model)
        }
        config.faultWork.install(nsPerTick: nsPerTick)
        (config.mutationWork ?? .none).install(nsPerTick: nsPerTick)
        for m in mms {
            m.probes.delays.setEnabled(config.check == .full)
            m.evidence.setAuditsHoles(config.check != .off)
        }
        let checker = Checker(
            mms: mms, control: control, log: log, workers: workers,
            intervalNanos: config.check == .off ? 0 : UInt64(config.checkpointIntervalSeconds * 1e9),
            stallTimeoutNanos: stallNanos, models: models,
            quiesce: { strategies.quiesce() },
            strategyFindings: { strategies.takeFindings() })
        checker.stutterEvery = UInt64(config.perturbation.stutterSeconds * 1e9)
        checker.stutterHold = config.perturbation.stutterHoldNanos
        watchdog = Watchdog(checker: checker)
        (self.plan, self.placement, self.caches, self.mms, self.strategies, self.models) = (plan, placement, caches, mms, strategies, models)
        (self.log, self.stallNanos, self.files, self.control, self.workers, self.checker) = (log, stallNanos, files, control, workers, checker)
    }

    /// Populates every mm on a thread of its own, so that a set-up looping on a
    /// corrupt index is a STALL, not a hang; false when it did not end in time.
    static func setUp(_ mms: [MM], _ strategies: RunStrategies, _ models: [MappingModel?], _ config: RunConfig,
                      _ log: ViolationLog, _ stallNanos: UInt64) -> Bool {
        let found = FindingsBox()
        let done = Runner.bounded("set-up", nanos: stallNanos) {
            found.findings = mms.indices.flatMap { strategies.populate($0, config, models[$0]) }
        }
        if done {
            mms.forEach { $0.probes.clearAnnouncement() }
            // A set-up that broke the index disagrees with the model too: TREE, the cause, goes first.
            for f in (found.findings.isEmpty ? [] : mms.flatMap { Audit.tree($0) }) + found.findings { log.report(f, thread: "set-up") }
        } else {
            log.report(Finding(.stall, expected: "the set-up (populating the address space) ends within \(config.stallTimeoutSeconds) s",
                               seen: "it was still running; no worker was started"), thread: "set-up")
        }
        return done
    }

    /// The loop worker `w` runs, and the mm it runs in.
    func job(_ w: WorkerStats) -> (job: WorkerJob, home: Int, seed: UInt64) {
        // Workers are dealt to the mms in turn. The mms run one program, as forked workers
        // do: each starts with the same mappings and its k-th worker has the same seed, so
        // a record one mm frees is soon allocated by another for the same range.
        // --lockstep: each mutator makes every mutation in mm 0, then in each other mm.
        let inStep = config.lockstep && w.role == .mutator
        let home = inStep ? 0 : w.index % config.mms, rank = inStep ? w.index : w.index / config.mms
        let seed = config.seed &+ UInt64(w.role == .faulter ? rank : 1000 + rank) &* 0x9E37_79B9
        let job: WorkerJob
        switch w.role {
        case .faulter where config.processes: job = .task(inThread: false)
        case .faulter where plan.capabilities.contains(.realMappings) && config.workload.runsInProcesses: job = .task(inThread: true)
        case .faulter where config.workload.privateRegions: job = .region
        case .faulter, .checker: job = .faulter
        case .mutator: job = .mutator(mirrors: inStep ? Array(1..<config.mms) : [])
        case .mmChurn: job = .mmChurn(caches: caches, index: plan.index, memory: placement.memory)
        }
        return (job, home, seed)
    }

    /// The threads a run started, and what perturbs them.
    struct Started {
        var threads: [OSThread] = []
        var hogs: CPUHogs?
        var checkerThread: OSThread?
        var watchdogThread: OSThread?
        var shuffler: Shuffler?
        var shufflerThread: OSThread?
    }

    /// Starts the workers, then the checker and the watchdog (a verdict needs
    /// both: without the watchdog a hang is not a STALL, without the checker
    /// nothing is audited), then the shuffler; on a failure, stops what started.
    func startThreads() throws -> Started {
        var s = Started()
        do {
            s.hogs = try CPUHogs(count: setUpDone ? config.perturbation.hogs : 0)
            let preemptMean = config.perturbation.preempt.meanNanos(checkingFully: config.check == .full)
            for w in workers where setUpDone {
                let (job, home, seed) = job(w)
                let body = strategies.worker(w, job, home, envs, seed)
                s.threads.append(try OSThread.spawn(name: w.name) {
                    w.applyPlacement()
                    let armed = preemptMean > 0 && vms_preempt_arm(preemptMean, seed) == 0
                    body()
                    if armed { w.preemptions = PreemptCounts(vms_preempt_disarm()) }
                })
            }
            if setUpDone {
                s.checkerThread = try OSThread.spawn(name: "checker") { [checker = self.checker, checkerPlacement = self.checkerPlacement] in
                    checkerPlacement.applyPlacement()
                    checker.run()
                    noteCPU(checkerPlacement.cpusSeen)
                }
                s.watchdogThread = try OSThread.spawn(name: "watchdog") { [watchdog = self.watchdog] in watchdog.run() }
            }
        } catch {
            _ = s.hogs?.stop()
            checker.stop()
            watchdog.stop()
            s.checkerThread?.join()
            control.stopAll()
            s.threads.forEach { $0.join() }
            throw Runner.Failure(description: "\(error)")
        }
        if config.perturbation.shuffleSeconds > 0 {
            let shuffler = Shuffler(threads: s.threads, cpus: allowedCPUsOfThisThread(),
                                    everyNanos: UInt64(config.perturbation.shuffleSeconds * 1e9))
            s.shuffler = shuffler
            s.shufflerThread = try OSThread.spawn(name: "shuffler") { shuffler.run() }
        }
        return s
    }

    /// The measured window's ends and the process's use at its start.
    struct Window {
        var t0: UInt64
        var t1: UInt64
        var usage0: rusage
    }

    /// Warms up, then measures, with stat lines; a violation (unless
    /// --keep-going), a stall or a stop signal ends either early.
    func measure(_ started: Started) -> Window {
        let shouldStop = { [log = self.log, checker = self.checker, setUpDone = self.setUpDone] in
            !setUpDone || log.shouldStop || checker.didStall || vms_stop_signal() != 0
        }
        var finished = Clock.sleep(until: Clock.nanos() + UInt64(config.warmupSeconds * 1e9), unless: shouldStop)
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
                        Console.out(Runner.statLine(Double(next - t0) / 1e9, workers, log, checker, strategies.deferredStats()))
                    }
                    next += every
                }
            }
            if finished { finished = Clock.sleep(until: end, unless: shouldStop) }
        }
        return Window(t0: t0, t1: Clock.nanos(), usage0: usage0)
    }

    /// How the run stopped: the process's use then, what the hogs spun, and
    /// whether the mms must be left alone (a thread that did not stop).
    struct Stopped {
        var usage: rusage
        var hogSpins: UInt64
        var abandoned: Bool
    }

    /// Stops every thread, each wait bounded, reports what did not stop,
    /// then the final audit.
    func stop(_ s: Started) -> Stopped {
        checker.stop()
        watchdog.stop()
        // A checker stuck in a checkpoint was reported by the watchdog: wait for it only briefly.
        let checkerWait = checker.didStall ? 1000 : Int(config.stallTimeoutSeconds * 1000) + 1000
        let checkerStuck = !(s.checkerThread?.join(timeoutMilliseconds: checkerWait) ?? true)
        s.watchdogThread?.join()
        s.shuffler?.stop()
        s.shufflerThread?.join()
        let hogSpins = s.hogs?.stop() ?? 0
        control.stopAll()
        let joinWait = Int(config.stallTimeoutSeconds * 1000) + 1000
        let joinDeadline = Clock.nanos() + UInt64(joinWait) * 1_000_000
        let stuck = s.threads.filter {
            !$0.join(timeoutMilliseconds: Int((joinDeadline - min(Clock.nanos(), joinDeadline)) / 1_000_000))
        }
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        if !stuck.isEmpty && !checker.didStall {
            log.report(Finding(.stall, expected: "every worker stops within \(joinWait) ms of being told to",
                               seen: stuck.map(\.name).joined(separator: ", ") + " still running"), thread: "harness")
        }
        if checkerStuck && !checker.didStall {
            log.report(Finding(.stall, expected: "the checker stops within \(checkerWait) ms of being told to",
                               seen: "it is still in a checkpoint, \(checker.phase)"), thread: "harness")
        }
        let abandoned = !stuck.isEmpty || checkerStuck || !setUpDone || !finalAudit()
        if config.check != .off {
            for f in Runner.unreportedOutcomes(workers, log) { log.report(f, thread: "self-check") }
        }
        return Stopped(usage: usage, hogSpins: hogSpins, abandoned: abandoned)
    }

    /// After every deferred free has run, the audit once more; bounded like
    /// the rest (a grace period may never end): false when it did not end.
    func finalAudit() -> Bool {
        let final = FindingsBox()
        let done = Runner.bounded("final-audit", nanos: stallNanos) {
            [strategies = self.strategies, mms = self.mms, models = self.models, checker = self.checker,
             underflows = self.checker.underflowsAtStart] in
            strategies.quiesce()
            var tally = Evaluations()
            final.findings = Checker.audit(mms, underflowsBefore: underflows, models: models, tally: &tally) + strategies.takeFindings()
            checker.count(tally)
        }
        if done {
            for f in final.findings { log.report(f, thread: "final") }
        } else {
            log.report(Finding(.stall, expected: "the final barrier and audit end within \(config.stallTimeoutSeconds) s",
                               seen: "they were still running (a grace period that does not end, or an audit looping on a corrupt index)"),
                       thread: "harness")
        }
        return done
    }

    /// What only the assembly knows: placement, deferred frees, mms, perturbations.
    func annotate(_ result: inout RunResult, _ s: Started, _ stopped: Stopped) {
        result.placement = PlacementSummary(
            request: config.placement, plan: placement,
            threads: (workers + (s.checkerThread == nil ? [] : [checkerPlacement])).map {
                ThreadPlacement(thread: $0.name, planned: $0.plannedCPUs.map(CPUList.format),
                                affinity: CPUList.format($0.affinity), ranOn: CPUList.format($0.cpusSeenList))
            },
            memory: stopped.abandoned ? [] : mms[0].residency())
        result.deferredFree = strategies.deferredStats()
        if config.mms > 1 || config.mmChurn {
            result.mms = MMSummary(count: config.mms, destroyed: caches.mms.destroyedCount, writerWakeups: caches.mms.writerWakeups)
        }
        let preempted = config.perturbation.preempt.meanNanos(checkingFully: config.check == .full) > 0
        if !config.perturbation.isNone || preempted {
            result.perturbations = PerturbationCounts(stutters: checker.stutters, shuffles: s.shuffler?.moves ?? 0,
                                                      hogSpins: config.perturbation.hogs > 0 ? stopped.hogSpins : nil,
                                                      preemptions: preempted ? workers.map(\.preemptions).reduce(PreemptCounts(), +) : nil)
        }
        if watchdog.quitDumps > 0 { result.quitDumps = watchdog.quitDumps }
    }

    func destroy() {
        strategies.shutdown()
        control.destroy()
        mms.forEach { $0.destroy() }
        caches.destroy()
    }
}
