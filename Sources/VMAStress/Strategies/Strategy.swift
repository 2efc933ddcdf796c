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

    /// A read-only lookup of the VMA at `page` that reads its fields (uprobes'
    /// find_active_uprobe_speculative): `.present` when one covers it,
    /// `.noVMA` when none does, or what a check found wrong. By default under
    /// mmap_read_lock; strategies with mmap_lock speculation try that first.
    func lookup(_ page: UInt64, _ ctx: inout FaultContext) -> FaultResult

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
    public func lookup(_ page: UInt64, _ ctx: inout FaultContext) -> FaultResult { ctx.lookupUnderMMapLock(mm.handle, page) }
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
    /// What it can do (`.model` for the model's strategies); the registry
    /// entry adds what its type shows (lockless, type-safe cache).
    public let capabilities: Capabilities
    /// Its readers use liburcu, so `--rcu-flavor` applies.
    public var usesRCU: Bool { capabilities.contains(.usesRCU) }
    /// For a twin whose race needs more than a default run: what opens it.
    public let caughtWith: RunShape?

    public init(name: String, summary: String, origin: String, breaks: Invariant? = nil,
                base: String? = nil, maxWorkers: Int? = nil,
                indexes: [IndexKind] = [.rbtree, .btree], usesRCU: Bool = false,
                capabilities: Capabilities = .model, caughtWith: RunShape? = nil) {
        self.caughtWith = caughtWith
        self.name = name
        self.summary = summary
        self.origin = origin
        self.breaks = breaks
        self.base = base
        self.maxWorkers = maxWorkers
        self.indexes = indexes
        self.capabilities = capabilities.union(usesRCU ? .usesRCU : [])
    }

    /// The same entry as a busted twin of `base`.
    public func twin(name: String, summary: String, origin: String, breaks: Invariant,
                     caughtWith: RunShape? = nil) -> StrategyInfo {
        StrategyInfo(name: name, summary: summary, origin: origin, breaks: breaks, base: self.name,
                     maxWorkers: maxWorkers, indexes: indexes, capabilities: capabilities,
                     caughtWith: caughtWith)
    }

    public var isBusted: Bool { breaks != nil }
}

/// The run a busted twin's race needs beyond the defaults: several mms,
/// short-lived ones, a smaller churn region (so reused records land where
/// readers look), more mutators.
public struct RunShape: Sendable, Equatable {
    /// Exactly this many faulters (the others would only share the CPUs).
    public var faulters: Int?
    public var mutators: Int?
    public var mms: Int?
    public var mmChurn = false
    /// Mutators change every mm in turn (`--lockstep`).
    public var lockstep = false
    public var churnPages: UInt64?
    /// A `--mix` spec, such as `hot=100` (churn faults aimed at the range a mutation works on).
    public var mix: String?

    public init(faulters: Int? = nil, mutators: Int? = nil, mms: Int? = nil, mmChurn: Bool = false, lockstep: Bool = false,
                churnPages: UInt64? = nil, mix: String? = nil) {
        self.faulters = faulters
        self.mutators = mutators
        self.mms = mms
        self.mmChurn = mmChurn
        self.lockstep = lockstep
        self.churnPages = churnPages
        self.mix = mix
    }

    /// As `vmastress run` options.
    public var words: [String] {
        var w: [String] = []
        if let faulters { w.append("--faulters \(faulters)") }
        if let mutators { w.append("--mutators \(mutators)") }
        if let mms { w.append("--mms \(mms)") }
        if mmChurn { w.append("--mm-churn") }
        if lockstep { w.append("--lockstep") }
        if let churnPages { w.append("--churn-pages \(churnPages)") }
        if let mix { w.append("--mix \(mix)") }
        return w
    }
}

/// Fault-path events a strategy counts (the SPF outcome counters).
public enum FaultEvent: Int, CaseIterable, Sendable {
    /// A speculative or lock-free attempt began, and it finished without mmap_lock.
    case speculativeAttempt, speculativeSuccess
    /// Why attempts ended in a fallback to mmap_lock.
    case abortNotFound, abortSeqChanged, abortDetached, abortBounds, abortAccess, abortNoPageTable
    case abortRefZero, abortLockSeq, abortVMATrylock, abortNotAnonymous
    /// 6.15: a writer's bit in vm_refcnt; the VMA now belongs to another mm.
    case abortWriterBit, abortForeignMM
    /// The fault went to the classic path under mmap_lock.
    case fallback
    /// Retries that did not abort: mm seqlock moved during lookup; PTL trylock
    /// failed at commit (SPF v9); B-tree walk met a dead node; the VMA found
    /// was detached, the walk begun again (6.15).
    case retryTreeSeq, retryPTLTrylock, retryIndexWalk, retryDetached
    /// Lookups (`OpKind.lookup`) by mmap_lock speculation (6.14): begun;
    /// validated; given up because mmap_lock was write-held at the start, or
    /// the sequence moved (retry); the lookups under mmap_read_lock instead.
    case speculateAttempt, speculateSuccess, speculateWriteLocked, speculateRetry, speculateFallback

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
        case .abortWriterBit: return "abort-writer-bit"
        case .abortForeignMM: return "abort-foreign-mm"
        case .fallback: return "fallback"
        case .retryTreeSeq: return "retry-mm-seq"
        case .retryPTLTrylock: return "retry-ptl-trylock"
        case .retryIndexWalk: return "retry-index-walk"
        case .retryDetached: return "retry-detached"
        case .speculateAttempt: return "speculate-attempt"
        case .speculateSuccess: return "speculate-success"
        case .speculateWriteLocked: return "speculate-write-locked"
        case .speculateRetry: return "speculate-retry"
        case .speculateFallback: return "speculate-fallback"
        }
    }

    /// Named case by case: a new event must say whether it is an abort (no default).
    public var isAbort: Bool {
        switch self {
        case .abortNotFound, .abortSeqChanged, .abortDetached, .abortBounds, .abortAccess, .abortNoPageTable,
             .abortRefZero, .abortLockSeq, .abortVMATrylock, .abortNotAnonymous, .abortWriterBit, .abortForeignMM:
            return true
        case .speculativeAttempt, .speculativeSuccess, .fallback, .retryTreeSeq, .retryPTLTrylock, .retryIndexWalk,
             .retryDetached, .speculateAttempt, .speculateSuccess, .speculateWriteLocked, .speculateRetry, .speculateFallback:
            return false
        }
    }
}

/// The fault path's per-thread state, owned by one worker: event counters,
/// the reader-pipe buckets, the delay-point counts, and the thread's SRCU reader slot.
public struct FaultContext: WalkStep {
    let events: UnsafeMutablePointer<UInt64>
    let pipe: UnsafeMutablePointer<UInt64>
    /// Per `ReadPoint`: passes, then firings.
    let delayCounts: UnsafeMutablePointer<UInt64>
    /// Per `InlineCheck`: the times it ran.
    let evaluated: UnsafeMutablePointer<UInt64>
    /// Where this thread is, for the stall dump (relaxed stores off the fast path).
    let step: UnsafeMutablePointer<Atomic<UInt8>>
    public var srcu: SRCUReader?
    /// Delay-point passes through this context, hashed to pick the stalls.
    var passes: UInt32 = 0
    var reuseWalks: UInt32 = 0
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
    /// rcu_barrier for the strategy's flavor (`RCUFlavorKind.readerBarrier`),
    /// for the `before-retry` delay point; nil: that point only spins.
    public var gracePeriodWait: (@convention(c) () -> Void)?

    /// PIPE buckets: stages 0, 1, 2 and 3-or-more.
    public static let pipeBuckets = 4
    /// Counters a context needs for its delay points.
    public static let delayCounters = 2 * ReadPoint.allCases.count

    public init(events: UnsafeMutablePointer<UInt64>, pipe: UnsafeMutablePointer<UInt64>,
                delayCounts: UnsafeMutablePointer<UInt64>, evaluated: UnsafeMutablePointer<UInt64>,
                step: UnsafeMutablePointer<Atomic<UInt8>>) {
        self.events = events
        self.pipe = pipe
        self.delayCounts = delayCounts
        self.evaluated = evaluated
        self.step = step
    }

    private mutating func updateTortured() { tortured = delays || longReads || hook != nil }

    /// The classic fault under mmap_lock, after a lockless attempt gave up
    /// (`why`, counted with the fallback).
    @inline(never)
    public mutating func fallback(_ mm: UnsafePointer<MM>, _ why: FaultEvent?, _ page: UInt64, write: Bool) -> FaultResult {
        if let why { note(why) }
        note(.fallback)
        step.pointee.store(FaulterStep.fallback.rawValue, ordering: .relaxed)
        let r = mm.pointee.faultUnderMMapLock(page, write: write, blockBegin: blockBegin, blockEnd: blockEnd)
        step.pointee.store(FaulterStep.running.rawValue, ordering: .relaxed)
        return r
    }

    @inline(__always)
    public func note(_ e: FaultEvent) { events[e.rawValue] &+= 1 }

    /// An inline check ran (counted for the report and the run's self-check).
    @inline(__always)
    public func evaluating(_ c: InlineCheck) { evaluated[c.rawValue] &+= 1 }

    /// rcutorture's reader delays (`--check full` only): at each delay
    /// point a fault passes (`ReadPoint`), one pass in 1024 stalls for 2 µs
    /// (one in 64 when the fault aims at a range a mutation is working on;
    /// 50 µs at after-lookup then, long enough for that mutation to finish
    /// and free the VMA found, and the next to reuse it) and one in 65536
    /// for 50 µs. A reader that meets a writer at work (an
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
        if p == .beforeRetry, let wait = gracePeriodWait, hash >> (32 - Self.retryWaitBits) == 0 {
            delayCounts[2 * p.rawValue + 1] &+= 1
            return wait()
        }
        if p == .insideReadLock || preemptedInSection && p == .afterPin { return preemptTwice(p, hash) }
        if hash >> (32 - (hot ? Self.hotDelayBits : Self.shortDelay.bits)) == 0 {
            delayCounts[2 * p.rawValue + 1] &+= 1
            // A hot fault that found its VMA waits out the mutation at work on it (and the next one's start).
            let long = hash >> (32 - Self.longDelay.bits) == 0 || hot && p == .afterLookup
            spin(nanos: long ? Self.longDelay.nanos : Self.shortDelay.nanos)
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

    /// In a type-safe cache the record a walk found may be freed and handed
    /// out again, to this mm or another, before the reader takes its
    /// reference. One hot walk in 256 that found a VMA (`--check full`;
    /// hot: aimed at the range a mutation of this mm announced, which may
    /// free that VMA) waits after its lookup until that has happened and the
    /// new owner has attached it (a count of 0 would just send the reader
    /// back to walk again), at most 500 µs: the window a reader that trusts a
    /// reused record needs (REUSE). A new owner's link takes longer in a
    /// large address space, so waiting for the id alone lost the race there.
    /// Walks no mutation races (page_fault1's) never wait.
    @inline(__always)
    public mutating func awaitReuse(of v: VMAPtr, id: UInt64) {
        if tortured { awaitReuseSlow(of: v, id: id) }
    }

    @inline(never)
    mutating func awaitReuseSlow(of v: VMAPtr, id: UInt64) {
        guard delays && hot else { return }
        reuseWalks &+= 1
        guard (reuseWalks &* 2_654_435_769) >> (32 - Self.reuseWaitBits) == 0 else { return }
        delayCounts[2 * ReadPoint.afterLookup.rawValue + 1] &+= 1
        var waited: UInt32 = 0
        while (v.id == id || !v.isAttached) && waited < Self.reuseWaitMaxMicros {
            usleep(50)
            waited += 50
        }
    }
    public static let reuseWaitBits = UInt32(8)
    public static let reuseWaitMaxMicros = UInt32(500)

    /// One pass in 4 through `before-retry` waits for the deferred frees (walks met a detached VMA: rare).
    public static let retryWaitBits = UInt32(2)
    /// A reader preempted at `p` until `done` holds, at most 50 ms
    /// (`--check full`): on a rare path (a put that met another mm's waiting
    /// writer), long enough for that mm to exit and be destroyed.
    public mutating func preempted(at p: ReadPoint, until done: () -> Bool) {
        guard delays else { return }
        delayCounts[2 * p.rawValue] &+= 1
        delayCounts[2 * p.rawValue + 1] &+= 1
        var slept: UInt32 = 0
        while !done() && slept < Self.preemptedMaxMicros {
            usleep(100)
            slept += 100
        }
    }
    public static let preemptedMaxMicros = UInt32(50_000)

    /// A reader on a rare path that a writer of another mm may be racing
    /// (it holds another process's VMA): stay 200 µs (`--check full`).
    @inline(never)
    public func lingerLong() { if delays { spin(nanos: Self.foreignHoldNanos) } }
    public static let foreignHoldNanos = UInt64(200_000)

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
        let restarts = events + FaultEvent.retryIndexWalk.rawValue
        let v = mm.index.find(page, restarts: &restarts.pointee, freed: &freed, step: &self)
        if checks { evaluating(.uaf) }
        if checks && (freed != 0 || v?.pointee.tag.load(ordering: .relaxed) == VMA.poison) { noteFreedMemory(v) }
        return v
    }

    /// The B-tree leaf the last `findKeepingWalk` ended in: a maple state.
    var walkLeaf: UInt = 0

    /// `find` on the B-tree, keeping where the walk ended (`walkLeaf`).
    @inline(__always)
    public mutating func findKeepingWalk(_ mm: MM, _ page: UInt64) -> VMAPtr? {
        var freed: UInt64 = 0, leaf: UInt = 0
        let restarts = events + FaultEvent.retryIndexWalk.rawValue
        let v = mm.index.bt.find(page, restarts: &restarts.pointee, freed: &freed, leaf: &leaf, step: &self)
        walkLeaf = leaf
        if checks { evaluating(.uaf) }
        if checks && freed != 0 { noteFreedMemory(nil) }
        return v
    }

    /// A walk resumed where the last `findKeepingWalk` ended, as a maple
    /// state that was not reset resumes (from the root when there is none).
    @inline(__always)
    public mutating func resumeWalk(_ mm: MM, _ page: UInt64) -> VMAPtr? {
        guard walkLeaf != 0 else { return findKeepingWalk(mm, page) }
        var freed: UInt64 = 0
        let restarts = events + FaultEvent.retryIndexWalk.rawValue
        let v = mm.index.bt.find(page, resumingAt: walkLeaf, restarts: &restarts.pointee, freed: &freed, step: &self)
        if checks { evaluating(.uaf) }
        if checks && freed != 0 { noteFreedMemory(nil) }
        return v
    }

    /// A lockless walk's levels are a delay point (`ReadPoint.inWalk`).
    @inline(__always)
    public mutating func level() { delay(.inWalk) }

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
        evaluating(.pipe)
        let stage = v.pointee.pipe.load(ordering: .acquiring)
        pipe[Int(min(stage, 3))] &+= 1
        return stage > 1 ? .pipe(vmaID: id, gracePeriods: stage - 1) : nil
    }

    /// TORN: fields that passed validation do not match their checksum.
    @inline(__always)
    public func isTorn(start: UInt64, end: UInt64, prot: Prot, flags: UInt32, gen: UInt64, checksum: UInt64) -> Bool {
        guard checks else { return false }
        evaluating(.torn)
        return VMA.checksum(start: start, end: end, prot: prot.rawValue, flags: flags, gen: gen) != checksum
    }

    /// The lookup under mmap_read_lock: find the VMA, read its fields (a
    /// checksum that does not match them is TORN: nothing changes them under the lock).
    @inline(never)
    public mutating func lookupUnderMMapLock(_ mm: UnsafePointer<MM>, _ page: UInt64) -> FaultResult {
        let lock = mm.pointee.mmapLock
        if !lock.tryReadLock() {
            blockBegin?()
            lock.readLock()
            blockEnd?()
        }
        defer { lock.readUnlock() }
        guard let v = mm.pointee.index.find(page) else { return .noVMA }
        guard checks else { return .present }
        evaluating(.torn)
        return v.checksumMatches ? .present : .torn(vmaID: v.id)
    }

    /// REUSE, where a fault on a type-safe VMA acts (under the PTL, holding
    /// its reference): the record is of the faulting mm, attached, and covers
    /// the page. Its instance is checked too (`checkLive`): freed and reused
    /// while referenced is UAF.
    @inline(__always)
    public func checkReuse(_ v: VMAPtr, id: UInt64, _ mm: MM, _ page: UInt64) -> FaultResult? {
        guard checks else { return nil }
        evaluating(.reuse)
        if let r = checkLive(v, id: id) { return r }
        if v.owner != mm.identity { return .reuse(vmaID: id, why: .foreignMM) }
        if !(v.start <= page && page < v.end) { return .reuse(vmaID: id, why: .outsideRange) }
        if !v.isAttached { return .reuse(vmaID: id, why: .detached) }
        return nil
    }

    /// The UAF re-check after use: still the allocation that was found? A
    /// freed record whose pipe stage shows a grace period ended is reported
    /// as PIPE, the cause; one freed without a grace period as UAF.
    @inline(__always)
    public func checkLive(_ v: VMAPtr, id: UInt64) -> FaultResult? {
        guard checks else { return nil }
        evaluating(.uaf)
        if v.isLive(as: id) { return nil }
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
