/// `spf-srcu`: Zijlstra's 2014 speculative faults. VMAs are freed through
/// call_srcu, so a fault inside srcu_read_lock can use a VMA it found even
/// if a writer unlinks it meanwhile; the VMA's seqcount tells the fault
/// whether what it read still holds.
///
/// Read side: srcu_read_lock; look the VMA up in the rbtree, retrying while
/// the mm seqlock moves; the speculative steps (`SpeculativeFault`); the
/// reader-pipe and UAF re-checks; srcu_read_unlock; on any abort, the
/// classic fault under mmap_lock.
/// Write side: mmap_lock for write; the mm seqlock around tree inserts and
/// erases; the VMA seqcount around every change; call_srcu to free.
public struct SPFSRCU: LocklessSteps, SeqlockedTreeWrites {
    public static let info = StrategyInfo(
        name: "spf-srcu",
        summary: "speculative faults under SRCU: seqlock-retried rbtree lookup, VMA seqcount validation, commit under the PTL; call_srcu frees",
        origin: "Peter Zijlstra, RFC 2014, \"Provide speculative fault infrastructure\" (seed 001)",
        indexes: [.rbtree])

    public let mm: MM
    public let srcu: SRCU
    let deferred: DeferredFree

    public init(mm: MM) { self.init(mm: mm, srcu: SRCU()) }

    /// `srcu` may be a busted domain (callbacks before the grace period).
    public init(mm: MM, srcu: SRCU) {
        self.mm = mm
        self.srcu = srcu
        srcu.delays = mm.probes.delays
        deferred = .vmaFree(mm, source: .srcu(srcu))
    }

    public func threadStart(_ ctx: inout FaultContext) {
        guard let r = srcu.registerReader() else { fatalError("more than \(SRCU.maxReaders) SRCU readers") }
        ctx.srcu = r
    }

    public func threadStop(_ ctx: inout FaultContext) {
        if let r = ctx.srcu { srcu.unregister(r) }
        ctx.srcu = nil
    }

    public func vmaRetire(_ v: VMAPtr) { deferred.retireVMA(v, mm) }

    // The read side, in LocklessFault's steps.

    public static let lookupRetriesOnMMSeq = true
    /// Modelled as speculating on every VMA (what the 2014 RFC did with file VMAs is not established here).
    public static let anonymousOnly = false

    /// srcu_read_lock, in its two steps: the index, then the count on it.
    @inline(__always)
    public func enterFault(_ ctx: inout FaultContext) -> (reader: SRCUReader, index: Int) {
        let reader = ctx.srcu.unsafelyUnwrapped
        let first = reader.index()
        ctx.delay(.insideReadLock)
        return (reader, reader.enter(first))
    }

    /// The lookup runs inside the SRCU section; nothing more to enter.
    @inline(__always) public func enterLookup() {}
    @inline(__always) public func leaveLookup() {}

    /// Nothing pins the VMA but the SRCU section: call_srcu frees it only after the section ends.
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome { .pinned }

    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .lock, &ctx)
    }

    /// Still inside the section: the VMA may be retired, never two grace periods ago.
    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? {
        ctx.readPipe(v, id: id) ?? ctx.checkLive(v, id: id)
    }

    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) {}

    /// srcu_read_unlock.
    @inline(__always)
    public func leaveFault(_ s: (reader: SRCUReader, index: Int)) { s.reader.unlock(s.index) }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }

    public func quiesce() { deferred.barrier() }
    public func shutdown() { srcu.shutdown() }
    public var deferredStats: DeferredFreeStats? { deferred.stats }
}
