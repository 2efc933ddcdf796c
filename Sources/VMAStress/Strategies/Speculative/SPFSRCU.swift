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
public struct SPFSRCU: Strategy, SeqlockedTreeWrites {
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
        srcu.delays = mm.writeDelays
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

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculativeAttempt)
        let reader = ctx.srcu.unsafelyUnwrapped
        let first = reader.index()
        ctx.delay(.insideReadLock)
        let idx = reader.enter(first)
        var found: VMAPtr?
        while true {
            let s = mm.seqReadBegin()
            found = ctx.find(mm, page)
            if !mm.seqReadRetry(s) { break }
            ctx.note(.retryTreeSeq)
        }
        var result: FaultResult? = nil
        if let v = found {
            let id = v.id
            ctx.delay(.afterLookup)
            if let dead = ctx.checkLive(v, id: id) {
                result = dead
            } else {
                result = SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .lock, &ctx)
                ctx.delay(.afterCommit)
                if let violation = ctx.readPipe(v, id: id) ?? ctx.checkLive(v, id: id) { result = violation }
            }
        } else {
            ctx.note(.abortNotFound)
        }
        reader.unlock(idx)
        if let result {
            if !result.isViolation { ctx.note(.speculativeSuccess) }
            return result
        }
        return ctx.fallback(mm, nil, page, write: write)
    }

    public func quiesce() { deferred.barrier() }
    public func shutdown() { srcu.shutdown() }
    public var deferredStats: DeferredFreeStats? { deferred.stats }
}
