/// One phase of a soak, as the summary keeps it.
public struct SoakPhaseResult: Codable, Sendable {
    public var phase: Int
    public var strategy: String
    public var workload: Workload
    public var faulters: Int
    public var mutators: Int
    public var index: IndexKind
    /// The liburcu flavor, for strategies whose readers use RCU.
    public var rcuFlavor: RCUFlavorKind?
    public var perturbations: [String]
    public var seed: UInt64
    public var verdict: RunResult.Verdict
    public var startedAtSeconds: Double
    public var wallSeconds: Double
    public var faults: UInt64
    public var mutations: UInt64
    public var checkpoints: Int
    public var stutters: Int
    public var shuffles: Int
    public var violationCount: Int
    /// The first violations (at most 10), in full.
    public var violations: [Violation]
    /// `vmastress run ...` that repeats this phase alone.
    public var reproduce: String
    /// RSS once the phase had torn down (free heap trimmed).
    public var rssAfterKiB: Int
}

public struct SoakTotals: Codable, Sendable {
    public var phases = 0
    public var failedPhases = 0
    public var faults: UInt64 = 0
    public var mutations: UInt64 = 0
    public var checkpoints = 0
    public var stutters = 0
    public var shuffles = 0
    public var violations = 0
}

/// What `vmastress soak --json` writes (docs/results-schema.md).
public struct SoakResult: Codable, Sendable {
    public static let schemaID = "vmastress.soak/1"
    public var schema = SoakResult.schemaID
    public var tool: String
    public var createdAt: String
    public var machine: Machine
    public var plan: SoakPlan
    public var durationSeconds: Double
    /// SUCCESS, FAILURE or INTERRUPTED.
    public var verdict: RunResult.Verdict
    public var interruptedBy: String?
    public var elapsedSeconds: Double
    public var startLine: String
    public var endLine: String
    public var totals: SoakTotals
    public var phases: [SoakPhaseResult]
    /// Why the soak failed, one line each (violations by phase, RSS growth).
    public var failures: [String]
    public var rss: RSSReport
}

public struct RSSReport: Codable, Sendable {
    public var limitKiB: Int
    public var peakKiB: Int
    /// Once a second over the whole soak.
    public var samples: [RSSSample]
    public var verdict: RSSVerdict
}
