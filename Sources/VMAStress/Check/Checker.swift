import Synchronization

/// The checker thread: every `interval` it parks all workers at an operation
/// boundary (a checkpoint), runs the full audits and lets them go; between
/// checkpoints it is the stall watchdog. A worker that makes no progress, or
/// does not park, within `stallTimeout` is reported (STALL) with every
/// thread's state, and the run ends instead of hanging.
public final class Checker: @unchecked Sendable {
    public let mm: MM
    let control: RunControl
    let log: ViolationLog
    let workers: [WorkerStats]
    let interval: UInt64
    let stallTimeout: UInt64
    /// The strategy's barrier (rcu_barrier and the like), run while parked.
    let quiesce: @Sendable () -> Void
    /// MAPPING's reference model, compared whole at every checkpoint (`--check full`).
    let model: MappingModel?
    let underflowsAtStart: UInt64
    /// Stutter: every `stutterEvery` the workers stay parked for `stutterHold` (0: off).
    var stutterEvery: UInt64 = 0
    var stutterHold: UInt64 = 0

    private let stopFlag = Atomic<Bool>(false)
    private let checkpointCount = Atomic<Int>(0)
    private let stalled = Atomic<Bool>(false)
    private let stutterCount = Atomic<Int>(0)

    public init(mm: MM, control: RunControl, log: ViolationLog, workers: [WorkerStats],
                intervalNanos: UInt64, stallTimeoutNanos: UInt64, model: MappingModel? = nil,
                quiesce: @escaping @Sendable () -> Void) {
        self.model = model
        self.mm = mm
        self.control = control
        self.log = log
        self.workers = workers
        interval = intervalNanos
        stallTimeout = stallTimeoutNanos
        self.quiesce = quiesce
        underflowsAtStart = mm.refUnderflows.count
    }

    /// The invariants a checkpoint checks (STABLE is checked by every faulter inline).
    public static let checkpointInvariants: [Invariant] = [.tree, .ref, .stalePTE, .leak]

    public var checkpoints: Int { checkpointCount.load(ordering: .relaxed) }
    public var didStall: Bool { stalled.load(ordering: .relaxed) }
    public var stutters: Int { stutterCount.load(ordering: .relaxed) }
    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Checkpoints every `interval` (none when it is 0), and between them the
    /// stall watchdog: a worker whose progress count has not moved for
    /// `stallTimeout` is reported with every thread's state, and the run ends.
    public func run() {
        let tick = max(stallTimeout / 4, 10_000_000)
        var nextCheckpoint = interval > 0 ? Clock.nanos() + interval : UInt64.max
        var nextStutter = stutterEvery > 0 ? Clock.nanos() + stutterEvery : UInt64.max
        var seen = workers.map { $0.progress.pointee.load(ordering: .relaxed) }
        var movedAt = [UInt64](repeating: Clock.nanos(), count: workers.count)
        while Clock.sleep(until: min(nextCheckpoint, nextStutter, Clock.nanos() + tick),
                          unless: { stopFlag.load(ordering: .relaxed) }) {
            var now = Clock.nanos()
            if now >= min(nextCheckpoint, nextStutter) {
                let stutter = now >= nextStutter
                // A worker that has not moved since before the checkpoint gets the rest of its stall time to park.
                let deadline = (movedAt.min() ?? now) + stallTimeout
                if !checkpoint(parkTimeout: max(deadline, now + 1_000_000) - now,
                               hold: stutter ? stutterHold : 0, audit: interval > 0) { return }
                now = Clock.nanos()
                if stutter {
                    stutterCount.wrappingAdd(1, ordering: .relaxed)
                    nextStutter = now + stutterEvery
                }
                if interval > 0 { nextCheckpoint = now + interval }
                // Time parked at the checkpoint is not a stall.
                movedAt = movedAt.map { _ in now }
                continue
            }
            for (i, w) in workers.enumerated() {
                let p = w.progress.pointee.load(ordering: .relaxed)
                if p != seen[i] {
                    seen[i] = p
                    movedAt[i] = now
                } else if now - movedAt[i] > stallTimeout {
                    stalled.store(true, ordering: .relaxed)
                    log.report(stallFinding(stuck: w, for: now - movedAt[i]), thread: "watchdog")
                    return
                }
            }
        }
    }

    /// One checkpoint: park, audit (unless `audit` is false), stay parked for
    /// `hold` nanoseconds (a stutter), resume. False when the workers did not park (a stall).
    public func checkpoint(parkTimeout: UInt64? = nil, hold: UInt64 = 0, audit: Bool = true) -> Bool {
        let t0 = Clock.nanos()
        guard control.pauseAll(timeoutNanos: parkTimeout ?? stallTimeout) else {
            stalled.store(true, ordering: .relaxed)
            log.report(stallFinding(), thread: "checker")
            return false
        }
        if audit {
            quiesce()
            for f in Self.audit(mm, underflowsBefore: underflowsAtStart, model: model) { log.report(f, thread: "checker") }
        }
        if hold > 0 { _ = Clock.sleep(until: Clock.nanos() + hold, unless: { stopFlag.load(ordering: .relaxed) }) }
        control.resumeAll()
        if control.isMeasuring { control.addPaused(nanos: Clock.nanos() - t0) }
        if audit { checkpointCount.wrappingAdd(1, ordering: .relaxed) }
        return true
    }

    /// Every checkpoint audit. TREE first: when the index is broken, the scans
    /// that search it would only repeat the same fault.
    public static func audit(_ mm: MM, underflowsBefore: UInt64, pendingFrees: UInt64 = 0,
                             model: MappingModel? = nil) -> [Finding] {
        let tree = Audit.tree(mm)
        if !tree.isEmpty { return tree }
        let index = Audit.index(mm)
        if !index.isEmpty { return index }
        return (model.map { m in m.lock.withLock { _ in m.compare(mm) } } ?? [])
            + Audit.refs(mm, underflowsBefore: underflowsBefore)
            + Audit.holes(mm) + Audit.allLocks(mm)
            + Audit.ptes(mm)
            + Audit.leak(mm, pending: pendingFrees)
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
        let (step, id) = mm.writerStep
        return (lines + ["mm: " + step.describe(vma: id)]).joined(separator: "\n            ")
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
