/// The checks a worker runs inline, on its own operations, each counted where
/// it runs (in the worker's own counters: one increment, no atomics).
public enum InlineCheck: Int, CaseIterable, Sendable {
    /// A lookup's walk reaching freed memory; the record's liveness re-checked after use.
    case uaf
    /// The checksum of the fields a fault read, once validated.
    case torn
    /// The reader-pipe stage of the VMA a fault uses.
    case pipe
    /// The owner, range and attachment of a type-safe record where the fault acts.
    case reuse
    /// A fault's result in the stable region or the guard.
    case stable

    public var invariant: Invariant {
        switch self {
        case .uaf: return .uaf
        case .torn: return .torn
        case .pipe: return .pipe
        case .reuse: return .reuse
        case .stable: return .stable
        }
    }
}

/// How many times each invariant was evaluated in a run: the workers' inline
/// checks, the audits after each mutation (one per invariant per call) and
/// each checkpoint's audits (one per invariant per mm). A run that lists an
/// invariant as checked and evaluated it zero times holds a check that could
/// not fail there: the run fails (`Runner.unevaluatedClaims`).
public struct Evaluations: Codable, Sendable, Equatable {
    public private(set) var counts: [Invariant: UInt64] = [:]

    public init() {}

    public subscript(_ i: Invariant) -> UInt64 { counts[i] ?? 0 }

    public mutating func add(_ i: Invariant, _ n: UInt64 = 1) { counts[i, default: 0] += n }

    public mutating func add(_ other: Evaluations) {
        for (i, n) in other.counts { add(i, n) }
    }

    // As an object keyed by the invariants' ids, in results.json.
    public init(from decoder: Decoder) throws {
        let raw = try [String: UInt64](from: decoder)
        for (k, n) in raw { if let i = Invariant(rawValue: k) { counts[i] = n } }
    }

    public func encode(to encoder: Encoder) throws {
        try Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }).encode(to: encoder)
    }
}
