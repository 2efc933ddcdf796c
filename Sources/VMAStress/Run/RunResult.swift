import Histogram

/// One operation type's totals over the measured window.
public struct OpSummary: Codable, Sendable {
    public var op: String
    /// Operations that did their job (for faults: every fault, whatever its outcome).
    public var count: UInt64
    /// Mutations that found no room or no target.
    public var failed: UInt64
    public var opsPerSecond: Double
    public var latencyNs: LatencySummary
}

/// Per-thread resource use over the measured window.
public struct ThreadSummary: Codable, Sendable {
    public var name: String
    public var role: WorkerStats.Role
    public var ops: UInt64
    public var userSeconds: Double
    public var systemSeconds: Double
    public var voluntaryContextSwitches: Int
    public var involuntaryContextSwitches: Int
    /// getrusage(RUSAGE_THREAD) ru_minflt over the measured window.
    public var minorFaults: Int = 0
}

/// Whole-process resource use over the measured window (includes the checker).
public struct ProcessUsage: Codable, Sendable {
    public var userSeconds: Double
    public var systemSeconds: Double
    public var voluntaryContextSwitches: Int
    public var involuntaryContextSwitches: Int
    public var peakRSSKiB: Int
    /// Page faults the kernel served without I/O (getrusage ru_minflt): the
    /// real faults of the `kernel` backend; near zero for the model.
    public var minorFaults: Int = 0
}

public struct CheckerSummary: Codable, Sendable {
    public var checkpoints: Int
    public var invariantsChecked: [Invariant]
    public var violationCount: Int
    /// How many times each invariant was evaluated (absent in results written before it was counted).
    public var evaluations: Evaluations?
}

/// Several address spaces in one run.
public struct MMSummary: Codable, Sendable {
    /// The run's mms (`--mms`).
    public var count: Int
    /// mms destroyed (at their last mmdrop) by the end: `--mm-churn`'s short-lived ones.
    public var destroyed: UInt64
    /// vma_refcount_put's writer wake-ups, over every mm.
    public var writerWakeups: UInt64
}

public struct StoreSummary: Codable, Sendable {
    public var vmasAtEnd: Int
    public var vmaAllocations: UInt64
    public var vmaFrees: UInt64
    public var pageTablePages: Int
    public var presentPTEsAtEnd: Int
}

/// One run's results: what `--json` writes (schema in docs/results-schema.md).
public struct RunResult: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case success = "SUCCESS", failure = "FAILURE", interrupted = "INTERRUPTED"
        /// A soak's summary written between phases: not a verdict yet.
        case incomplete = "INCOMPLETE"
    }

    public var strategy: String
    public var config: RunConfig
    public var reproduce: String
    public var verdict: Verdict
    /// The signal that cut the run short, if any.
    public var interruptedBy: String?
    /// SIGQUITs answered with a thread dump on stderr while the run went on (absent: none).
    public var quitDumps: Int?
    /// Wall time of the measured window, and that time less checkpoint pauses (the ops/s divisor).
    public var wallSeconds: Double
    public var measuredSeconds: Double
    public var ops: [OpSummary]
    public var faultOutcomes: [String: UInt64]
    public var faultEvents: [String: UInt64]
    public var threads: [ThreadSummary]
    public var process: ProcessUsage
    public var checker: CheckerSummary
    public var store: StoreSummary
    public var violations: [Violation]
    /// Where threads and memory were placed, and where they were seen.
    public var placement: PlacementSummary?
    /// The lookup tree the run used.
    public var index: IndexKind?
    /// What the run's strategy or backend could do (`Capabilities`), by name.
    public var capabilities: Capabilities?
    /// rcutorture's reader pipe: faults that saw a VMA 0, 1, 2 and 3+ grace periods after its removal.
    public var readerPipe: [UInt64]?
    /// The VMA deferred-free books, for strategies that defer frees.
    public var deferredFree: DeferredFreeStats?
    /// How often the perturbations struck (nil when none was asked for).
    public var perturbations: PerturbationCounts?
    /// How often each torture delay point was passed and fired (`--check full`).
    public var delayPoints: DelayPointCounts?
    /// `--mms` and `--mm-churn`: the address spaces (absent for a run of one).
    public var mms: MMSummary?
    /// Merged latency histograms by op name (for percentile files; not in the JSON).
    public var histograms: [String: Histogram<UInt64>] = [:]

    enum CodingKeys: String, CodingKey {
        case strategy, config, reproduce, verdict, interruptedBy, quitDumps, wallSeconds, measuredSeconds, ops,
             faultOutcomes, faultEvents, threads, process, checker, store, violations, placement, index,
             readerPipe, deferredFree, perturbations, delayPoints, mms
    }

    public func op(_ kind: OpKind) -> OpSummary? { ops.first { $0.op == kind.name } }

    /// The workload's ops/s as will-it-scale counts its iterations: faults,
    /// or mmaps (each with its munmap), or mmaps and munmaps (brk1).
    public var countedOpsPerSecond: Double {
        let rate = { (k: OpKind) in self.op(k)?.opsPerSecond ?? 0 }
        switch config.workload.spec.counted {
        case .faults: return rate(.fault)
        case .mmaps: return rate(.mmap)
        case .mappings: return rate(.mmap) + rate(.munmap)
        }
    }

    /// Percent of faults that finished without mmap_lock, that aborted
    /// (any reason), and that fell back to mmap_lock; nil for strategies
    /// without a lockless path.
    public var faultPathRates: (success: Double, aborts: Double, fallbacks: Double)? {
        guard let faults = op(.fault)?.count, faults > 0, let attempts = faultEvents["spf-attempt"], attempts > 0 else {
            return nil
        }
        let aborts = FaultEvent.allCases.filter(\.isAbort).reduce(UInt64(0)) { $0 + (faultEvents[$1.name] ?? 0) }
        let pct = { (n: UInt64) in 100 * Double(n) / Double(faults) }
        return (pct(faultEvents["spf-success"] ?? 0), pct(aborts), pct(faultEvents["fallback"] ?? 0))
    }
}

/// Stutters (all workers parked together) and shuffles (threads moved between CPUs) in the measured run.
public struct PerturbationCounts: Codable, Sendable {
    public var stutters: Int
    public var shuffles: Int
    /// Loop iterations the `--hogs` threads spun (nil without hogs).
    public var hogSpins: UInt64?
    /// What `--preempt` did to the workers (nil when it was off).
    public var preemptions: PreemptCounts?
}

/// One thread's placement: planned CPUs, the affinity it had, the CPUs it was sampled on (sched_getcpu).
public struct ThreadPlacement: Codable, Sendable {
    public var thread: String
    public var planned: String?
    public var affinity: String
    public var ranOn: String
}

public struct PlacementSummary: Codable, Sendable {
    public var request: PlacementRequest
    public var plan: PlacementPlan
    public var threads: [ThreadPlacement]
    /// Sampled pages of the store's memory by node (move_pages).
    public var memory: [MemoryResidency]
}

/// The file `--json` writes: every run of one invocation, and the machine.
public struct ResultsFile: Codable, Sendable {
    public static let schemaID = "vmastress.results/1"
    public var schema = ResultsFile.schemaID
    public var tool: String
    public var createdAt: String
    public var machine: Machine
    public var runs: [RunResult]

    public init(tool: String, createdAt: String, machine: Machine, runs: [RunResult]) {
        self.tool = tool
        self.createdAt = createdAt
        self.machine = machine
        self.runs = runs
    }
}
