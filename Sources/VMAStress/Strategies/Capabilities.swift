/// What a strategy or backend can do. The harness asks these, never a
/// strategy's name: a new backend that can do the same gets the same
/// treatment without a line changed elsewhere.
public struct Capabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Its readers use liburcu: `--rcu-flavor` applies.
    public static let usesRCU = Capabilities(rawValue: 1 << 0)
    /// Its fault is `locklessFault` over its `LocklessSteps`.
    public static let lockless = Capabilities(rawValue: 1 << 1)
    /// Its lockless path falls back on file-backed VMAs (`LocklessSteps.anonymousOnly`).
    public static let anonymousOnly = Capabilities(rawValue: 1 << 2)
    /// Its VMAs go back to a type-safe cache at once (`LocklessSteps.typeSafeVMAs`): REUSE is checked.
    public static let typeSafeCache = Capabilities(rawValue: 1 << 3)
    /// Its VMAs live in the model store: the harness audits them (the model's
    /// invariants, MAPPING's reference model, the store summary).
    public static let modelStore = Capabilities(rawValue: 1 << 4)
    /// Runs several model address spaces (`--mms`, `--mm-churn`, `--lockstep`).
    public static let severalMMs = Capabilities(rawValue: 1 << 5)
    /// Mutators' read-only lookups (the mix's `lookup`).
    public static let lookups = Capabilities(rawValue: 1 << 6)
    /// Its faults do their own work (the host zeroes and maps the page):
    /// `--fault-work` and calibration do not apply.
    public static let ownsFaultWork = Capabilities(rawValue: 1 << 7)
    /// Its mappings are this process's real ones: vm.max_map_count bounds
    /// `--vmas`, workload files are real files, and will-it-scale's
    /// testcases run will-it-scale's own loop. Its cells are the host's
    /// reference for drift between invocations (`compare`).
    public static let realMappings = Capabilities(rawValue: 1 << 8)
    /// Its faulters can run in processes of their own (`--processes`; a
    /// suite names that `NAME-processes`).
    public static let processes = Capabilities(rawValue: 1 << 9)

    /// A strategy of the model: its store audited, several mms, lookups.
    public static let model: Capabilities = [.modelStore, .severalMMs, .lookups]
    /// The host kernel: real mappings, its own fault work, processes.
    public static let hostKernel: Capabilities = [.realMappings, .ownsFaultWork, .processes]

    /// Every capability with its name, for listings and results files.
    public static let named: [(name: String, capability: Capabilities)] = [
        ("uses-rcu", .usesRCU), ("lockless", .lockless), ("anonymous-only", .anonymousOnly),
        ("type-safe-cache", .typeSafeCache), ("model-store", .modelStore), ("several-mms", .severalMMs),
        ("lookups", .lookups), ("owns-fault-work", .ownsFaultWork), ("real-mappings", .realMappings),
        ("processes", .processes),
    ]

    public var names: [String] { Self.named.filter { contains($0.capability) }.map(\.name) }

    public init(names: [String]) {
        self = Capabilities(Self.named.filter { names.contains($0.name) }.map(\.capability))
    }
}

extension Capabilities: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(names: try decoder.singleValueContainer().decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(names)
    }
}
