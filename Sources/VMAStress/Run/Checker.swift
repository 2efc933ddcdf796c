import Synchronization

/// The checker thread: every `interval` it parks all workers at an operation
/// boundary (a checkpoint), runs the full audits and lets them go; stutters
/// park them for a while too. The stall watchdog (`Watchdog`) runs on a
/// thread of its own and watches this one as well as the workers.
public final class Checker: @unchecked Sendable {
    /// The run's mms (`--mms`), each audited; they share one VMA cache.
    public let mms: [MM]
    let control: RunControl
    let log: ViolationLog
    let workers: [WorkerStats]
    let interval: UInt64
    let stallTimeout: UInt64
    /// The strategy's barrier (rcu_barrier and the like), run while parked.
    let quiesce: @Sendable () -> Void
    /// The strategy's own findings (`Strategy.takeFindings`).
    let strategyFindings: @Sendable () -> [Finding]
    /// MAPPING's reference model of each mm, compared whole at every checkpoint (`--check full`).
    let models: [MappingModel?]
    let underflowsAtStart: [UInt64]
    /// Stutter: every `stutterEvery` the workers stay parked for `stutterHold` (0: off).
    var stutterEvery: UInt64 = 0
    var stutterHold: UInt64 = 0

    private let stopFlag = Atomic<Bool>(false)
    private let checkpointCount = Atomic<Int>(0)
    private let stalled = Atomic<Bool>(false)
    private let stutterCount = Atomic<Int>(0)
    private let busy = Atomic<UInt64>(0)
    /// When the worker that moved longest ago last moved (the watchdog
    /// writes it; 0 before its first tick): a checkpoint gives the workers
    /// only the rest of that worker's stall time to park.
    let oldestProgress = Atomic<UInt64>(0)
    private let phaseIndex = Atomic<Int>(0)
    private let ended = Atomic<UInt64>(0)
    /// The checkpoint audits that ran, the final one's too.
    private let audited = Mutex(Evaluations())

    public init(mms: [MM], control: RunControl, log: ViolationLog, workers: [WorkerStats],
                intervalNanos: UInt64, stallTimeoutNanos: UInt64, models: [MappingModel?],
                quiesce: @escaping @Sendable () -> Void,
                strategyFindings: @escaping @Sendable () -> [Finding] = { [] }) {
        self.models = models
        self.mms = mms
        self.control = control
        self.log = log
        self.workers = workers
        interval = intervalNanos
        stallTimeout = stallTimeoutNanos
        self.quiesce = quiesce
        self.strategyFindings = strategyFindings
        underflowsAtStart = mms.map { $0.evidence.refUnderflows.count }
    }

    public var checkpoints: Int { checkpointCount.load(ordering: .relaxed) }
    public var evaluations: Evaluations { audited.withLock { $0 } }
    func count(_ tally: Evaluations) { audited.withLock { $0.add(tally) } }
    public var didStall: Bool { stalled.load(ordering: .relaxed) }
    public var stutters: Int { stutterCount.load(ordering: .relaxed) }
    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Checkpoints every `interval` (none when it is 0) and stutters every
    /// `stutterEvery`, until stopped or a checkpoint fails to park the workers.
    public func run() {
        var nextCheckpoint = interval > 0 ? Clock.nanos() + interval : UInt64.max
        var nextStutter = stutterEvery > 0 ? Clock.nanos() + stutterEvery : UInt64.max
        while Clock.sleep(until: min(nextCheckpoint, nextStutter), unless: { stopFlag.load(ordering: .relaxed) }) {
            let stutter = Clock.nanos() >= nextStutter
            if !checkpoint(hold: stutter ? stutterHold : 0, audit: interval > 0 && Clock.nanos() >= nextCheckpoint) { return }
            let now = Clock.nanos()
            if stutter {
                stutterCount.wrappingAdd(1, ordering: .relaxed)
                nextStutter = now + stutterEvery
            }
            if interval > 0 && now >= nextCheckpoint { nextCheckpoint = now + interval }
        }
    }

    /// When the current checkpoint began (0: none under way), and what it is doing, for the watchdog.
    public var busySince: UInt64 { busy.load(ordering: .acquiring) }
    public var phase: String { Self.phases[Int(phaseIndex.load(ordering: .relaxed))] }
    static let phases = ["parking the workers", "in the strategy's barrier (waiting for grace periods)", "auditing the store", "holding the workers parked (stutter)"]
    /// Checkpoints (and stutters) finished, audited or not.
    public var checkpointsEnded: UInt64 { ended.load(ordering: .acquiring) }
    func markStalled() { stalled.store(true, ordering: .relaxed) }

    /// One checkpoint: park, audit (unless `audit` is false), stay parked for
    /// `hold` nanoseconds (a stutter), resume. False when the workers did not park (a stall).
    public func checkpoint(hold: UInt64 = 0, audit: Bool = true) -> Bool {
        let t0 = Clock.nanos()
        phaseIndex.store(0, ordering: .relaxed)
        busy.store(t0, ordering: .releasing)
        defer {
            busy.store(0, ordering: .releasing)
            ended.wrappingAdd(1, ordering: .releasing)
        }
        let oldest = oldestProgress.load(ordering: .relaxed)
        let deadline = oldest == 0 ? t0 + stallTimeout : oldest + stallTimeout
        guard control.pauseAll(timeoutNanos: max(deadline, t0 + 1_000_000) - t0) else {
            if !stalled.exchange(true, ordering: .relaxed) { log.report(stallFinding(), thread: "checker") }
            return false
        }
        if audit {
            phaseIndex.store(1, ordering: .relaxed)
            quiesce()
            phaseIndex.store(2, ordering: .relaxed)
            var tally = Evaluations()
            for f in Self.audit(mms, underflowsBefore: underflowsAtStart, models: models, tally: &tally) + strategyFindings() {
                log.report(f, thread: "checker")
            }
            count(tally)
        }
        if hold > 0 {
            phaseIndex.store(3, ordering: .relaxed)
            _ = Clock.sleep(until: Clock.nanos() + hold, unless: { stopFlag.load(ordering: .relaxed) })
        }
        control.resumeAll()
        if control.isMeasuring { control.addPaused(nanos: Clock.nanos() - t0) }
        if audit { checkpointCount.wrappingAdd(1, ordering: .relaxed) }
        return true
    }

    /// Every checkpoint audit. TREE first: when the index is broken, the scans
    /// that search it would only repeat the same fault.
    public static func audit(_ mm: MM, underflowsBefore: UInt64, pendingFrees: UInt64 = 0,
                             model: MappingModel? = nil) -> [Finding] {
        audit([mm], underflowsBefore: [underflowsBefore], pendingFrees: pendingFrees, models: [model])
    }

    /// The audits of each mm, then LEAK over the VMA cache they share (`AuditPlan`), counted in `tally`.
    public static func audit(_ mms: [MM], underflowsBefore: [UInt64], pendingFrees: UInt64 = 0,
                             models: [MappingModel?], tally: inout Evaluations) -> [Finding] {
        AuditPlan.checkpoint(mms.indices.map { AuditPlan.MMInput(mm: mms[$0], underflowsBefore: underflowsBefore[$0], model: models[$0]) },
                             pendingFrees: pendingFrees, tally: &tally)
    }

    public static func audit(_ mms: [MM], underflowsBefore: [UInt64], pendingFrees: UInt64 = 0,
                             models: [MappingModel?]) -> [Finding] {
        var tally = Evaluations()
        return audit(mms, underflowsBefore: underflowsBefore, pendingFrees: pendingFrees, models: models, tally: &tally)
    }

    /// The thread dump: every worker's role, operation, step and progress, and the mm writer's step.
    func threadDump() -> String {
        let lines = workers.map { w -> String in
            let op = w.currentOp.pointee.load(ordering: .relaxed)
            let doing: String
            if w.role == .faulter {
                let step = FaulterStep(rawValue: w.step.pointee.load(ordering: .relaxed)) ?? .running
                doing = "fault: \(step.text)"
            } else {
                doing = op < 0 ? "between operations" : "in \(OpKind(rawValue: op)!.name)"
            }
            return "\(w.name) (\(w.role.rawValue)): \(doing), \(w.progress.pointee.load(ordering: .relaxed)) ops done"
        }
        let writers = mms.enumerated().map { i, mm in
            let (step, id) = mm.probes.step
            return (mms.count > 1 ? "mm \(i): " : "mm: ") + step.describe(vma: id)
        }
        return (lines + writers).joined(separator: "\n            ")
    }

    func stallFinding(stuck w: WorkerStats? = nil, for nanos: UInt64 = 0) -> Finding {
        if let w {
            return Finding(.stall, expected: "every worker makes progress within \(Double(stallTimeout) / 1e9) s",
                           seen: "\(w.name) made none for \(String(format: "%.1f", Double(nanos) / 1e9)) s; threads:\n            "
                               + threadDump())
        }
        return Finding(.stall, expected: "all \(workers.count) workers park within \(Double(stallTimeout) / 1e9) s",
                       seen: "threads:\n            " + threadDump())
    }
}
