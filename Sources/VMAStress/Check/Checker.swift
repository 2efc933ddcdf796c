import Synchronization

/// The checker thread: every `interval` it parks all workers at an operation
/// boundary (a checkpoint), runs the full audits and lets them go. A worker
/// that does not park within `stallTimeout` is reported (STALL) with every
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
    let underflowsAtStart: UInt64

    private let stopFlag = Atomic<Bool>(false)
    private let checkpointCount = Atomic<Int>(0)
    private let stalled = Atomic<Bool>(false)

    public init(mm: MM, control: RunControl, log: ViolationLog, workers: [WorkerStats],
                intervalNanos: UInt64, stallTimeoutNanos: UInt64, quiesce: @escaping @Sendable () -> Void) {
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
    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    public func run() {
        while Clock.sleep(until: Clock.nanos() + interval, unless: { stopFlag.load(ordering: .relaxed) }) {
            if !checkpoint() { return }
        }
    }

    /// One checkpoint. False when the workers did not park (a stall).
    public func checkpoint() -> Bool {
        let t0 = Clock.nanos()
        guard control.pauseAll(timeoutNanos: stallTimeout) else {
            stalled.store(true, ordering: .relaxed)
            log.report(stallFinding(), thread: "checker")
            return false
        }
        quiesce()
        for f in Self.audit(mm, underflowsBefore: underflowsAtStart) { log.report(f, thread: "checker") }
        control.resumeAll()
        if control.isMeasuring { control.addPaused(nanos: Clock.nanos() - t0) }
        checkpointCount.wrappingAdd(1, ordering: .relaxed)
        return true
    }

    /// Every checkpoint audit. TREE first: when the index is broken, the scans
    /// that search it would only repeat the same fault.
    public static func audit(_ mm: MM, underflowsBefore: UInt64, pendingFrees: UInt64 = 0) -> [Finding] {
        let tree = Audit.tree(mm)
        if !tree.isEmpty { return tree }
        let index = Audit.index(mm)
        if !index.isEmpty { return index }
        return Audit.refs(mm, underflowsBefore: underflowsBefore)
            + Audit.moves(mm) + Audit.allLocks(mm)
            + Audit.ptes(mm)
            + Audit.leak(mm, pending: pendingFrees)
    }

    func stallFinding() -> Finding {
        let states = workers.map { w in
            let op = w.currentOp.pointee.load(ordering: .relaxed)
            let opName = op < 0 ? "between ops" : "in \(OpKind(rawValue: op)!.name)"
            return "\(w.name) \(opName) after \(w.progress.pointee.load(ordering: .relaxed)) ops"
        }
        return Finding(.stall, expected: "all \(workers.count) workers park within \(Double(stallTimeout) / 1e9) s",
                       seen: states.joined(separator: "; "))
    }
}
