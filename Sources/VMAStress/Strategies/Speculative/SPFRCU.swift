/// `spf-rcu`: Dufour's SPF v12 (2019). Lookups run under RCU and take a
/// reference; VMAs are freed after a grace period and the count reaching 0.
///
/// Read side: loop { s = read_seqbegin(mm seq); rcu_read_lock; find;
/// get (unless zero); rcu_read_unlock } while read_seqretry(s); the
/// speculative steps; put.
/// Write side: mmap_lock for write; the mm seqlock around tree inserts and
/// erases; the VMA seqcount around every change; on erase the tree's
/// reference is dropped through call_rcu, and the last put frees.
public struct SPFRCU<F: RCUFlavor>: RCUReaders, SeqlockedTreeWrites {
    public typealias Flavor = F

    public static var info: StrategyInfo {
        StrategyInfo(
            name: "spf-rcu",
            summary: "speculative faults under RCU with VMA reference counts; the tree's reference is dropped through call_rcu",
            origin: "Laurent Dufour, SPF v12 2019, \"introduce vma reference counter\" (seed 002)",
            usesRCU: true)
    }

    public let mm: MM
    let deferred: DeferredFree
    let nodes: DeferredFree?

    public init(mm: MM) {
        self.mm = mm
        deferred = DeferredFree(source: .rcu(F.kind), onGracePeriod: VMA.gracePeriodPassed,
                                reclaim: { h in mm.put(VMAAllocator.vma(fromHeader: h)) })
        nodes = .treeNodes(mm, F.kind)
    }

    /// The tree's reference is dropped through call_rcu.
    public func vmaRetire(_ v: VMAPtr) {
        v.markRemoved()
        deferred.retire(VMAAllocator.header(of: v), bytes: mm.vmas.bytesPerRecord)
    }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        speculativeFault(page, write: write, recheckAtCommit: true, &ctx)
    }

    @inline(__always)
    func speculativeFault(_ page: UInt64, write: Bool, recheckAtCommit: Bool, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculativeAttempt)
        var found: VMAPtr?
        var pinned = false
        var seen: FaultResult? = nil
        while true {
            let s = mm.seqReadBegin()
            F.readLock()
            found = ctx.find(mm, page)
            if let v = found {
                // Inside the read section: the pipe stage says how long ago v was retired.
                ctx.delay(.afterLookup)
                seen = ctx.readPipe(v, id: v.id)
                pinned = v.pointee.refs.getUnlessZero()
            }
            F.readUnlock()
            if !mm.seqReadRetry(s) { break }
            if pinned, let v = found { mm.put(v) }
            pinned = false
            ctx.note(.retryTreeSeq)
        }
        if let seen { return unpin(found, pinned, seen) }
        guard let v = found else {
            return ctx.fallback(mm, .abortNotFound, page, write: write)
        }
        guard pinned else {
            return ctx.fallback(mm, .abortRefZero, page, write: write)
        }
        let id = v.id
        ctx.delay(.afterPin)
        var result = ctx.checkLive(v, id: id)
            ?? SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .lock,
                                       recheckAtCommit: recheckAtCommit, &ctx)
        ctx.delay(.afterCommit)
        if let dead = ctx.checkLive(v, id: id) { result = dead }
        mm.put(v)
        if let result {
            if !result.isViolation { ctx.note(.speculativeSuccess) }
            return result
        }
        return ctx.fallback(mm, nil, page, write: write)
    }

    private func unpin(_ v: VMAPtr?, _ pinned: Bool, _ r: FaultResult) -> FaultResult {
        if pinned, let v { mm.put(v) }
        return r
    }

    public func quiesce() {
        deferred.barrier()
        nodes?.barrier()
    }

    public var deferredStats: DeferredFreeStats? { deferred.stats }
}
