/// `spf-rwlock`: Dufour's SPF v9 (2018). SRCU "is not scaling well", so the
/// tree gets a spinning rwlock and each VMA a use count.
///
/// Read side: read_lock(tree); find; vma_get; read_unlock; the speculative
/// steps, committing with spin_trylock on the PTL (on failure: re-check the
/// seqcount, retry); vma_put, which frees when it drops the last reference.
/// Write side: mmap_lock for write; write_lock(tree) around inserts and
/// erases only; the VMA seqcount around every change; the tree's reference
/// is dropped on erase, and whoever drops the last one frees, at once.
public struct SPFRWLock: LocklessSteps, SequencedVMAWrites {
    public static let info = StrategyInfo(
        name: "spf-rwlock",
        summary: "speculative faults with a tree rwlock and VMA use counts; PTL trylock at commit; the last vma_put frees",
        origin: "Laurent Dufour, SPF v9 2018, \"Protect mm_rb tree with a rwlock\" (seed 000)")

    public let mm: MM
    public init(mm: MM) { self.mm = mm }

    public func treeWriteBegin() { mm.treeWriteLock() }
    public func treeWriteEnd() { mm.treeWriteUnlock() }

    // The read side, in LocklessFault's steps.

    public static let lookupRetriesOnMMSeq = false
    /// v9 handled anonymous VMAs only.
    public static let anonymousOnly = true

    /// No read side spans the fault: the reference keeps the VMA.
    @inline(__always) public func enterFault(_ ctx: inout FaultContext) {}
    @inline(__always) public func leaveFault(_ s: Void) {}

    /// read_lock(tree) around the lookup and vma_get.
    @inline(__always) public func enterLookup() { mm.treeReadLock() }
    @inline(__always) public func leaveLookup() { mm.treeReadUnlock() }

    /// vma_get, under the tree lock: a VMA in the tree holds the tree's reference, so the count is not zero.
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        v.pointee.refs.get()
        return .pinned
    }

    /// The speculative steps, committing with spin_trylock on the PTL (v9's pte_map_lock).
    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .trylock, &ctx)
    }

    /// The reference holds the record: it may be retired, never freed.
    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? {
        ctx.readPipe(v, id: id) ?? ctx.checkLive(v, id: id)
    }

    /// vma_put, also on the abort paths; the last reference frees.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { mm.put(v) }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }
}
