import Glibc
import Synchronization

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
    /// (RCU registration, an SRCU reader slot in `ctx`).
    func threadStart(_ ctx: inout FaultContext)
    func threadStop(_ ctx: inout FaultContext)

    /// Between operations, every few dozen (QSBR's rcu_quiescent_state).
    func quiescentState()
    /// Around a worker's parking at a checkpoint (QSBR's thread offline/online).
    func threadOffline()
    func threadOnline()

    /// A page fault at `page`; `write` asks for write access.
    func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult

    /// A mutation: the model's shared code (`performOnModel`) unless the
    /// strategy is a backend of its own (`kernel` makes the system calls).
    func perform(_ call: MutationCall) -> MutationResult

    /// Findings the strategy made itself (the kernel backend's checks of
    /// what munmap and mprotect promise), collected at every checkpoint
    /// and at the end; each is returned once.
    func takeFindings() -> [Finding]

    /// Waits until every deferred free queued so far has run (rcu_barrier,
    /// srcu_barrier). The checker calls it, with workers parked, before LEAK.
    func quiesce()

    /// Releases what `init` set up, after every thread has stopped.
    func shutdown()

    /// The VMA deferred-free books (backlog, grace-period latency), if it defers frees.
    var deferredStats: DeferredFreeStats? { get }
}

extension Strategy {
    public func threadStart(_ ctx: inout FaultContext) {}
    public func threadStop(_ ctx: inout FaultContext) {}
    @inline(__always) public func quiescentState() {}
    public func threadOffline() {}
    public func threadOnline() {}
    public func quiesce() {}
    public func shutdown() {}
    public var deferredStats: DeferredFreeStats? { nil }
    @inline(__always) public func perform(_ call: MutationCall) -> MutationResult { performOnModel(call) }
    public func takeFindings() -> [Finding] { [] }
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
    /// The lookup trees its protocol is correct on; the first is the default.
    public let indexes: [IndexKind]
    /// Its readers use liburcu, so `--rcu-flavor` applies.
    public let usesRCU: Bool
    /// The host kernel rather than the model (`kernel`).
    public let isKernel: Bool

    public init(name: String, summary: String, origin: String, breaks: Invariant? = nil,
                base: String? = nil, maxWorkers: Int? = nil,
                indexes: [IndexKind] = [.rbtree, .btree], usesRCU: Bool = false, isKernel: Bool = false) {
        self.name = name
        self.summary = summary
        self.origin = origin
        self.breaks = breaks
        self.base = base
        self.maxWorkers = maxWorkers
        self.indexes = indexes
        self.usesRCU = usesRCU
        self.isKernel = isKernel
    }

    /// The same entry as a busted twin of `base`.
    public func twin(name: String, summary: String, origin: String, breaks: Invariant) -> StrategyInfo {
        StrategyInfo(name: name, summary: summary, origin: origin, breaks: breaks, base: self.name,
                     maxWorkers: maxWorkers, indexes: indexes, usesRCU: usesRCU, isKernel: isKernel)
    }

    public var isBusted: Bool { breaks != nil }
}

/// Fault-path events a strategy counts (the SPF outcome counters).
public enum FaultEvent: Int, CaseIterable, Sendable {
    /// A speculative or lock-free attempt began, and it finished without mmap_lock.
    case speculativeAttempt, speculativeSuccess
    /// Why attempts ended in a fallback to mmap_lock.
    case abortNotFound, abortSeqChanged, abortDetached, abortBounds, abortAccess, abortNoPageTable
    case abortRefZero, abortLockSeq, abortVMATrylock, abortNotAnonymous
    /// The fault went to the classic path under mmap_lock.
    case fallback
    /// Retries that did not abort: mm seqlock moved during lookup; PTL trylock
    /// failed at commit (SPF v9); B-tree walk met a dead node.
    case retryTreeSeq, retryPTLTrylock, retryIndexWalk

    public var name: String {
        switch self {
        case .speculativeAttempt: return "spf-attempt"
        case .speculativeSuccess: return "spf-success"
        case .abortNotFound: return "abort-not-found"
        case .abortSeqChanged: return "abort-seq-changed"
        case .abortDetached: return "abort-detached"
        case .abortBounds: return "abort-bounds"
        case .abortAccess: return "abort-access"
        case .abortNoPageTable: return "abort-no-page-table"
        case .abortRefZero: return "abort-ref-zero"
        case .abortLockSeq: return "abort-vma-write-locked"
        case .abortVMATrylock: return "abort-vma-trylock"
        case .abortNotAnonymous: return "abort-not-anonymous"
        case .fallback: return "fallback"
        case .retryTreeSeq: return "retry-mm-seq"
        case .retryPTLTrylock: return "retry-ptl-trylock"
        case .retryIndexWalk: return "retry-index-walk"
        }
    }

    /// Named case by case: a new event must say whether it is an abort (no default).
    public var isAbort: Bool {
        switch self {
        case .abortNotFound, .abortSeqChanged, .abortDetached, .abortBounds, .abortAccess, .abortNoPageTable,
             .abortRefZero, .abortLockSeq, .abortVMATrylock, .abortNotAnonymous:
            return true
        case .speculativeAttempt, .speculativeSuccess, .fallback, .retryTreeSeq, .retryPTLTrylock, .retryIndexWalk:
            return false
        }
    }
}

/// The fault path's per-thread state, owned by one worker: event counters,
/// the reader-pipe buckets, the delay-point counts, and the thread's SRCU reader slot.
public struct FaultContext {
    let events: UnsafeMutablePointer<UInt64>
    let pipe: UnsafeMutablePointer<UInt64>
    /// Per `ReadPoint`: passes, then firings.
    let delayCounts: UnsafeMutablePointer<UInt64>
    /// Where this thread is, for the stall dump (relaxed stores off the fast path).
    let step: UnsafeMutablePointer<Atomic<UInt8>>
    public var srcu: SRCUReader?
    /// Delay-point passes through this context, hashed to pick the stalls.
    var passes: UInt32 = 0
    /// The read section's first stall fired (`preemptTwice`); the next after-pin stalls again.
    var preemptedInSection = false
    /// The current fault aims at the range a mutation announced (`WriterProbes.announce`).
    public var hot = false
    /// `--check`: the inline checks (UAF, PIPE, TORN) run unless `off`; the
    /// torture delays only under `full`.
    public var checks = true
    public var delays = true { didSet { updateTortured() } }
    /// `--long-reads`: now and then a read section spins long or sleeps (see `delay`).
    public var longReads = false { didSet { updateTortured() } }
    /// A test's hook, called at every read point passed (`ReadPointHook`).
    public var hook: ReadPointHook? { didSet { updateTortured() } }
    public var hookContext: UnsafeMutableRawPointer?
    /// The tag of the freed memory a lookup reached mid-fault (`find`), 0
    /// when none: one word, so the per-fault test in `finish` stays cheap.
    var freedTag: UInt64 = 0
    /// Whether a delay point has anything to do: one load on the fast path.
    private(set) var tortured = true
    /// Blocking calls outside a read section (the fallback's wait for
    /// mmap_lock) go offline around the wait (QSBR: a blocked online reader
    /// holds up every grace period; a writer waiting for one under mmap_lock
    /// would never get it).
    public var blockBegin: (@convention(c) () -> Void)?
    public var blockEnd: (@convention(c) () -> Void)?

    /// PIPE buckets: stages 0, 1, 2 and 3-or-more.
    public static let pipeBuckets = 4
    /// Counters a context needs for its delay points.
    public static let delayCounters = 2 * ReadPoint.allCases.count

    public init(events: UnsafeMutablePointer<UInt64>, pipe: UnsafeMutablePointer<UInt64>,
                delayCounts: UnsafeMutablePointer<UInt64>, step: UnsafeMutablePointer<Atomic<UInt8>>) {
        self.events = events
        self.pipe = pipe
        self.delayCounts = delayCounts
        self.step = step
    }

    private mutating func updateTortured() { tortured = delays || longReads || hook != nil }

    /// The classic fault under mmap_lock, after a lockless attempt gave up
    /// (`why`, counted with the fallback).
    @inline(never)
    public func fallback(_ mm: MM, _ why: FaultEvent?, _ page: UInt64, write: Bool) -> FaultResult {
        if let why { note(why) }
        note(.fallback)
        step.pointee.store(FaulterStep.fallback.rawValue, ordering: .relaxed)
        let r = mm.faultUnderMMapLock(page, write: write, blockBegin: blockBegin, blockEnd: blockEnd)
        step.pointee.store(FaulterStep.running.rawValue, ordering: .relaxed)
        return r
    }

    @inline(__always)
    public func note(_ e: FaultEvent) { events[e.rawValue] &+= 1 }

    /// rcutorture's reader delays (`--check full` only): at each delay
    /// point a fault passes (`ReadPoint`), one pass in 1024 stalls for 2 µs
    /// (one in 64 when the fault aims at a range a mutation is working on)
    /// and one in 65536 for 50 µs. A reader that meets a writer at work (an
    /// odd seqcount, a write-locked VMA) lingers 2 µs before it leaves. They
    /// open the race windows the checker needs to see a broken protocol.
    public static let shortDelay = (bits: UInt32(10), nanos: UInt64(2_000))
    public static let hotDelayBits = UInt32(6)
    public static let longDelay = (bits: UInt32(16), nanos: UInt64(50_000))

    /// Passes delay point `p`. Which passes stall: the top bits of a
    /// Fibonacci hash of the pass count, so the stalls do not line up with
    /// the latency sampling (one fault in 64) and bias the histograms.
    ///
    /// With `--long-reads` (any check level), one pass in 16384 spins 100 µs
    /// and one in 65536 sleeps 1 ms: a long read section, and one preempted
    /// inside it, as rcutorture's readers do.
    @inline(__always)
    public mutating func delay(_ p: ReadPoint) {
        if tortured { delaySlow(p) }
    }

    @inline(never)
    mutating func delaySlow(_ p: ReadPoint) {
        if let hook { hook(Int32(p.rawValue), hookContext) }
        guard delays || longReads else { return }
        passes &+= 1
        let hash = passes &* 2_654_435_769
        if longReads && hash >> (32 - Self.longReadBits) == 0 {
            Self.longRead(sleep: hash >> (32 - Self.preemptedReadBits) == 0)
            return
        }
        guard delays else { return }
        delayCounts[2 * p.rawValue] &+= 1
        if p == .insideReadLock || preemptedInSection && p == .afterPin { return preemptTwice(p, hash) }
        if hash >> (32 - (hot ? Self.hotDelayBits : Self.shortDelay.bits)) == 0 {
            delayCounts[2 * p.rawValue + 1] &+= 1
            spin(nanos: hash >> (32 - Self.longDelay.bits) == 0 ? Self.longDelay.nanos : Self.shortDelay.nanos)
        }
    }

    /// A reader preempted at the start of its read section and again after
    /// its lookup (`ReadPoint.insideReadLock`): one pass in 2^16 sleeps
    /// until a grace period has flipped the SRCU index it read, then, at
    /// after-pin (past the lookup's mm-seq retry), until the next flip and 300 µs
    /// more (each sleep at most 2 ms: a correct grace period waits for this
    /// reader before it flips again).
    public static let preemptedTwice = (bits: UInt32(16), maxMicros: UInt32(2_000), afterMicros: UInt32(300))

    mutating func preemptTwice(_ p: ReadPoint, _ hash: UInt32) {
        guard let reader = srcu else { return }
        if preemptedInSection {
            preemptedInSection = false
        } else if hash >> (32 - Self.preemptedTwice.bits) == 0 {
            preemptedInSection = true
        } else {
            return
        }
        delayCounts[2 * p.rawValue + 1] &+= 1
        let first = reader.flips
        var slept: UInt32 = 0
        while reader.flips == first && slept < Self.preemptedTwice.maxMicros {
            usleep(50)
            slept += 50
        }
        if !preemptedInSection { usleep(Self.preemptedTwice.afterMicros) }
    }

    /// The reader met a writer at work on its VMA: stay a while, still inside the read section.
    @inline(__always)
    public func linger() { if delays { spin(nanos: Self.shortDelay.nanos) } }

    public static let longReadBits = UInt32(14)
    public static let preemptedReadBits = UInt32(16)

    @inline(never)
    static func longRead(sleep: Bool) {
        if sleep { usleep(1000) } else { spin(nanos: 100_000) }
    }

    /// Looks `page` up in the mm's tree, counting B-tree walk restarts. A
    /// walk that reached freed memory (a freed index node, a poisoned VMA)
    /// leaves its tag in `freedTag` for `finish`: the read is the bug, even if the strategy
    /// then backs off cleanly (a zero count, a detached or dead record).
    @inline(__always)
    public mutating func find(_ mm: MM, _ page: UInt64) -> VMAPtr? {
        var freed: UInt64 = 0
        let v = mm.index.find(page, restarts: &events[FaultEvent.retryIndexWalk.rawValue], freed: &freed)
        if checks && (freed != 0 || v?.pointee.tag.load(ordering: .relaxed) == VMA.poison) { noteFreedMemory(v) }
        return v
    }

    @inline(never)
    mutating func noteFreedMemory(_ v: VMAPtr?) {
        if freedTag == 0 { freedTag = v?.tag ?? BTree.freedMark }
    }

    /// The fault's result, unless its lookup reached freed memory: then that UAF.
    @inline(__always)
    public mutating func finish(_ r: FaultResult) -> FaultResult {
        freedTag == 0 ? r : takeFreed()
    }

    @inline(never)
    mutating func takeFreed() -> FaultResult {
        defer { freedTag = 0 }
        return .useAfterFree(vmaID: 0, tag: freedTag)
    }

    /// rcutorture's reader pipe: records `v`'s stage (0 in the tree, 1
    /// removed, 2 or more: grace periods have passed since); a reader inside
    /// its read section must never see 2.
    @inline(__always)
    public func readPipe(_ v: VMAPtr, id: UInt64) -> FaultResult? {
        guard checks else { return nil }
        let stage = v.pointee.pipe.load(ordering: .acquiring)
        pipe[Int(min(stage, 3))] &+= 1
        return stage > 1 ? .pipe(vmaID: id, gracePeriods: stage - 1) : nil
    }

    /// TORN: fields that passed validation do not match their checksum.
    @inline(__always)
    public func isTorn(start: UInt64, end: UInt64, prot: Prot, flags: UInt32, gen: UInt64, checksum: UInt64) -> Bool {
        checks && VMA.checksum(start: start, end: end, prot: prot.rawValue, flags: flags, gen: gen) != checksum
    }

    /// The UAF re-check after use: still the allocation that was found? A
    /// freed record whose pipe stage shows a grace period ended is reported
    /// as PIPE, the cause; one freed without a grace period as UAF.
    @inline(__always)
    public func checkLive(_ v: VMAPtr, id: UInt64) -> FaultResult? {
        if !checks || v.isLive(as: id) { return nil }
        let stage = v.pointee.pipe.load(ordering: .relaxed)
        return stage > 1 ? .pipe(vmaID: id, gracePeriods: stage - 1) : .useAfterFree(vmaID: id, tag: v.tag)
    }
}

/// A faulter's step, as the stall dump shows it.
public enum FaulterStep: UInt8, Sendable {
    case running, fallback

    public var text: String {
        switch self {
        case .running: return "faulting"
        case .fallback: return "in the fallback: waiting for or holding mmap_lock (read)"
        }
    }
}
