import Glibc
import Synchronization

/// The VMA a violation is about, as the report shows it.
public struct VMAIdentity: Codable, Sendable, Equatable {
    public var start: UInt64
    public var end: UInt64
    public var gen: UInt64
    public var id: UInt64
    public var prot: String

    public init(_ v: VMAPtr) {
        start = v.start
        end = v.end
        gen = v.gen
        id = v.id
        prot = v.prot.description
    }

    public var text: String {
        "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16))) \(prot) gen \(gen) id \(id)"
    }
}

/// What an audit found wrong, before the harness adds who and when.
public struct Finding: Sendable, Equatable {
    public var invariant: Invariant
    public var vma: VMAIdentity?
    public var page: UInt64?
    public var expected: String
    public var seen: String

    public init(_ invariant: Invariant, vma: VMAIdentity? = nil, page: UInt64? = nil, expected: String, seen: String) {
        self.invariant = invariant
        self.vma = vma
        self.page = page
        self.expected = expected
        self.seen = seen
    }
}

/// A reported violation: the invariant, the strategy, the seed, the thread,
/// the VMA, what was expected and seen, and how to reproduce the run.
public struct Violation: Codable, Sendable {
    public var invariant: Invariant
    public var strategy: String
    public var seed: UInt64
    public var thread: String
    public var vma: VMAIdentity?
    public var page: UInt64?
    public var expected: String
    public var seen: String
    /// Seconds since the workers started.
    public var atSeconds: Double
    public var reproduce: String

    public var text: String {
        var lines = ["\(invariant.rawValue) violation: \(invariant.meaning)",
                     "  strategy \(strategy), seed \(seed), thread \(thread), at \(String(format: "%.3f", atSeconds)) s"]
        if let vma { lines.append("  VMA \(vma.text)") }
        if let page { lines.append("  page 0x\(String(page, radix: 16))") }
        lines.append("  expected: \(expected)")
        lines.append("  seen:     \(seen)")
        lines.append("  reproduce: \(reproduce)")
        return lines.joined(separator: "\n")
    }
}

/// Collects violations from every thread. Reporting is the rare path: a
/// mutex and an allocation are fine here.
public final class ViolationLog: Sendable {
    /// At most this many are kept in full; all are counted.
    public static let keepAtMost = 100

    let strategy: String
    let seed: UInt64
    let reproduce: String
    let startNanos: UInt64
    let keepGoing: Bool
    private let entries = Mutex<[Violation]>([])
    private let perInvariant = Mutex<[Invariant: Int]>([:])
    private let total = Atomic<Int>(0)
    /// Set by the first violation unless keep-going: the harness ends the run.
    private let stopFlag = Atomic<Bool>(false)

    public init(strategy: String, seed: UInt64, reproduce: String, keepGoing: Bool) {
        self.strategy = strategy
        self.seed = seed
        self.reproduce = reproduce
        self.keepGoing = keepGoing
        startNanos = Clock.nanos()
    }

    public func report(_ f: Finding, thread: String) {
        let v = violation(f, thread: thread)
        let n = total.wrappingAdd(1, ordering: .relaxed).newValue
        entries.withLock { if $0.count < Self.keepAtMost { $0.append(v) } }
        perInvariant.withLock { $0[f.invariant, default: 0] += 1 }
        if n == 1 || keepGoing && n <= 10 {
            let line = "vmastress: \(v.invariant.rawValue) violation (\(strategy), thread \(thread)): expected \(v.expected); seen \(v.seen)\n"
            Console.error(line)
        }
        if !keepGoing { stopFlag.store(true, ordering: .relaxed) }
    }

    /// `f` as this run's violation, now, without recording it.
    public func violation(_ f: Finding, thread: String) -> Violation {
        Violation(invariant: f.invariant, strategy: strategy, seed: seed, thread: thread, vma: f.vma, page: f.page,
                  expected: f.expected, seen: f.seen,
                  atSeconds: Double(Clock.nanos() - startNanos) / 1e9, reproduce: reproduce)
    }

    public var count: Int { total.load(ordering: .relaxed) }
    /// Reports of `invariant`, counted past `keepAtMost` too.
    public func count(of invariant: Invariant) -> Int { perInvariant.withLock { $0[invariant] ?? 0 } }
    public var shouldStop: Bool { stopFlag.load(ordering: .relaxed) }
    public var all: [Violation] { entries.withLock { $0 } }
}
