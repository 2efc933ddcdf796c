/// A locking strategy for the VMA tree, in the shape of rcutorture's ops
/// table: the read side (`fault`), the write side (the `WriteSide` hooks that
/// the shared mutation code calls), per-thread set-up, and the barrier the
/// checker needs before counting frees. Busted twins conform too and say
/// which invariant they break.
///
/// Conforming types are small structs holding handles into manually managed
/// memory; workers are generic over the strategy, so the fault path is
/// specialised and calls no existential.
public protocol Strategy: WriteSide, Sendable {
    static var info: StrategyInfo { get }

    init(mm: MM)

    /// On each worker thread, before its first operation and after its last
    /// (RCU and SRCU reader registration).
    func threadStart()
    func threadStop()

    /// A page fault at `page`; `write` asks for write access.
    func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult

    /// Waits until every deferred free queued so far has run (rcu_barrier,
    /// srcu_barrier). The checker calls it, with workers parked, before LEAK.
    func quiesce()

    /// Releases what `init` set up, after every thread has stopped.
    func shutdown()
}

extension Strategy {
    public func threadStart() {}
    public func threadStop() {}
    public func quiesce() {}
    public func shutdown() {}
}

/// A strategy's entry in the registry.
public struct StrategyInfo: Sendable {
    /// The CLI name.
    public let name: String
    /// One line: what it does.
    public let summary: String
    /// Where the design comes from.
    public let origin: String
    /// For a busted twin: the invariant its bug breaks.
    public let breaks: Invariant?
    /// The correct strategy this one is a twin of.
    public let base: String?
    /// At most this many worker threads (`none` runs one).
    public let maxWorkers: Int?

    public init(name: String, summary: String, origin: String, breaks: Invariant? = nil,
                base: String? = nil, maxWorkers: Int? = nil) {
        self.name = name
        self.summary = summary
        self.origin = origin
        self.breaks = breaks
        self.base = base
        self.maxWorkers = maxWorkers
    }

    public var isBusted: Bool { breaks != nil }
}

/// Fault-path events a strategy counts (the SPF outcome counters).
public enum FaultEvent: Int, CaseIterable, Sendable {
    case speculativeAttempt, speculativeSuccess
    case abortSeqChanged, abortDetached, abortNotFound, abortNoPageTable, abortTrylock, abortLockSeq
    case fallback

    public var name: String {
        switch self {
        case .speculativeAttempt: return "spf-attempt"
        case .speculativeSuccess: return "spf-success"
        case .abortSeqChanged: return "abort-seq-changed"
        case .abortDetached: return "abort-detached"
        case .abortNotFound: return "abort-not-found"
        case .abortNoPageTable: return "abort-no-page-table"
        case .abortTrylock: return "abort-trylock"
        case .abortLockSeq: return "abort-lock-seq"
        case .fallback: return "fallback"
        }
    }
}

/// The fault path's per-thread scratch: event counters owned by one worker.
public struct FaultContext {
    let events: UnsafeMutablePointer<UInt64>

    public init(events: UnsafeMutablePointer<UInt64>) { self.events = events }

    @inline(__always)
    public func note(_ e: FaultEvent) { events[e.rawValue] &+= 1 }
}
