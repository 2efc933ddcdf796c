import CSupport
import Glibc
import Histogram
import Synchronization

/// One worker's counters and latency histograms. Written only by its own
/// thread (the hot path touches raw pointers, never this object); read by
/// the harness after the thread has been joined, except `progress`, which
/// the checker reads live.
public final class WorkerStats: @unchecked Sendable {
    public enum Role: String, Codable, Sendable {
        case faulter, mutator, checker
        /// `--mm-churn`'s thread: short-lived mms.
        case mmChurn = "mm-churn"
    }

    public let name: String
    public let role: Role
    public let index: Int

    /// Ops done, ops failed (per OpKind), fault outcomes, fault events, reader-pipe buckets,
    /// delay-point counts, inline checks run.
    public let counters: UnsafeMutablePointer<UInt64>
    public let histograms: UnsafeMutablePointer<Histogram<UInt64>>
    /// Operations completed so far, for the stall watchdog (relaxed).
    public let progress: UnsafeMutablePointer<Atomic<UInt64>>
    /// The OpKind in progress, or -1 between operations (relaxed, for the dump).
    public let currentOp: UnsafeMutablePointer<Atomic<Int>>
    /// A faulter's `FaulterStep` (relaxed, for the dump).
    public let step: UnsafeMutablePointer<Atomic<UInt8>>

    /// What `--preempt` did to this thread, set by the thread as it ends.
    public var preemptions = PreemptCounts()

    public var usageStart = rusage()
    public var usageEnd = rusage()

    /// Placement: the CPUs the plan gave this thread (nil: left alone), the
    /// affinity it then had, and a bitmap of CPUs it was seen running on.
    public var plannedCPUs: [Int]?
    public var affinity: [Int] = []
    public let cpusSeen: UnsafeMutablePointer<UInt64>
    static let cpuWords = 16

    static let ops = OpKind.allCases.count
    static let doneBase = 0
    static let failedBase = ops
    static let outcomeBase = 2 * ops
    static let eventBase = outcomeBase + FaultResult.Kind.allCases.count
    static let pipeBase = eventBase + FaultEvent.allCases.count
    static let delayBase = pipeBase + FaultContext.pipeBuckets
    static let evaluatedBase = delayBase + FaultContext.delayCounters
    static let counterCount = evaluatedBase + InlineCheck.allCases.count

    /// 1 ns to 60 s at 3 significant digits.
    public static func newHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    public init(name: String, role: Role, index: Int) {
        self.name = name
        self.role = role
        self.index = index
        counters = .allocate(capacity: Self.counterCount)
        counters.initialize(repeating: 0, count: Self.counterCount)
        histograms = .allocate(capacity: Self.ops)
        histograms.initialize(repeating: Self.newHistogram(), count: Self.ops)
        progress = .allocate(capacity: 1)
        progress.initialize(to: Atomic(0))
        currentOp = .allocate(capacity: 1)
        currentOp.initialize(to: Atomic(-1))
        step = .allocate(capacity: 1)
        step.initialize(to: Atomic(0))
        cpusSeen = .allocate(capacity: Self.cpuWords)
        cpusSeen.initialize(repeating: 0, count: Self.cpuWords)
    }

    /// On the thread itself, before its first operation: applies the planned
    /// CPUs and records the affinity that resulted.
    public func applyPlacement() {
        if var cpus = plannedCPUs.map({ $0.map(Int32.init) }) { _ = vms_set_affinity(&cpus, Int32(cpus.count)) }
        affinity = allowedCPUsOfThisThread()
        noteCPU(cpusSeen)
    }

    /// The CPUs this thread was seen on.
    public var cpusSeenList: [Int] {
        (0..<(Self.cpuWords * 64)).filter { cpusSeen[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }

    deinit {
        counters.deallocate()
        histograms.deinitialize(count: Self.ops)
        histograms.deallocate()
        progress.deinitialize(count: 1)
        progress.deallocate()
        currentOp.deinitialize(count: 1)
        currentOp.deallocate()
        step.deinitialize(count: 1)
        step.deallocate()
        cpusSeen.deallocate()
    }

    /// Forgets the warm-up: zero counters and histograms, note resource usage. Own thread only.
    public func beginMeasuring() {
        counters.update(repeating: 0, count: Self.counterCount)
        audited = Evaluations()
        for i in 0..<Self.ops { histograms[i].reset() }
        _ = vms_thread_rusage(&usageStart)
    }

    public func endMeasuring() { _ = vms_thread_rusage(&usageEnd) }

    public func done(_ op: OpKind) -> UInt64 { counters[Self.doneBase + op.rawValue] }
    public func failed(_ op: OpKind) -> UInt64 { counters[Self.failedBase + op.rawValue] }
    public func outcome(_ o: FaultResult.Kind) -> UInt64 { counters[Self.outcomeBase + o.rawValue] }
    public func event(_ e: FaultEvent) -> UInt64 { counters[Self.eventBase + e.rawValue] }
    public func pipe(_ bucket: Int) -> UInt64 { counters[Self.pipeBase + bucket] }
    public func delayPasses(_ p: ReadPoint) -> UInt64 { counters[Self.delayBase + 2 * p.rawValue] }
    public func delayFired(_ p: ReadPoint) -> UInt64 { counters[Self.delayBase + 2 * p.rawValue + 1] }
    public func evaluated(_ c: InlineCheck) -> UInt64 { counters[Self.evaluatedBase + c.rawValue] }
    /// The audits this thread ran after its mutations (`--check full`), per invariant.
    public var audited = Evaluations()
    /// This worker's fault-path context (counters it alone writes).
    public func faultContext() -> FaultContext {
        FaultContext(events: counters + Self.eventBase, pipe: counters + Self.pipeBase,
                     delayCounts: counters + Self.delayBase, evaluated: counters + Self.evaluatedBase, step: step)
    }
}

/// Samples the CPU the calling thread runs on into a bitmap (sched_getcpu, a vDSO call).
@inline(__always)
public func noteCPU(_ bitmap: UnsafeMutablePointer<UInt64>) {
    let cpu = Int(vms_sched_getcpu())
    if cpu >= 0 && cpu < WorkerStats.cpuWords * 64 { bitmap[cpu / 64] |= 1 << UInt64(cpu % 64) }
}
