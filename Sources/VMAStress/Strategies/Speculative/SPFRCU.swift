/// `spf-rcu`: Dufour's SPF v12 (2019). Lookups run under RCU and take a
/// reference; VMAs are freed after a grace period and the count reaching 0.
///
/// Read side: loop { s = read_seqbegin(mm seq); rcu_read_lock; find;
/// get (unless zero); rcu_read_unlock } while read_seqretry(s); the
/// speculative steps; put.
/// Write side: mmap_lock for write; the mm seqlock around tree inserts and
/// erases; the VMA seqcount around every change; on erase the tree's
/// reference is dropped through call_rcu, and the last put frees.
public struct SPFRCU<F: RCUFlavor>: RCUReaders, LocklessSteps, SeqlockedTreeWrites {
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

    // The read side, in LocklessFault's steps.

    public static var lookupRetriesOnMMSeq: Bool { true }
    /// v12 handled anonymous VMAs only.
    public static var anonymousOnly: Bool { true }

    /// No read side spans the fault: the reference keeps the VMA.
    @inline(__always) public func enterFault(_ ctx: inout FaultContext) {}
    @inline(__always) public func leaveFault(_ s: Void) {}

    /// rcu_read_lock around the lookup and the get; the whole is retried while the mm seqlock moves.
    @inline(__always) public func enterLookup() { F.readLock() }
    @inline(__always) public func leaveLookup() { F.readUnlock() }

    /// Inside the RCU section the pipe stage says how long ago `v` was
    /// retired; then get_unless_zero (the tree's reference may be gone).
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        if let seen = ctx.readPipe(v, id: id) { return .violation(seen) }
        return v.pointee.refs.getUnlessZero() ? .pinned : .failed(.abortRefZero)
    }

    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .lock, &ctx)
    }

    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? { ctx.checkLive(v, id: id) }

    /// put; the last reference frees.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { mm.put(v) }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }

    public func quiesce() {
        deferred.barrier()
        nodes?.barrier()
    }

    public var deferredStats: DeferredFreeStats? { deferred.stats }
}
