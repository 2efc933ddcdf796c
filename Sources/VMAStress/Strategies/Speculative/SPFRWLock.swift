/// `spf-rwlock`: Dufour's SPF v9 (2018). SRCU "is not scaling well", so the
/// tree gets a spinning rwlock and each VMA a use count.
///
/// Read side: read_lock(tree); find; vma_get; read_unlock; the speculative
/// steps, committing with spin_trylock on the PTL (on failure: re-check the
/// seqcount, retry); vma_put, which frees when it drops the last reference.
/// Write side: mmap_lock for write; write_lock(tree) around inserts and
/// erases only; the VMA seqcount around every change; the tree's reference
/// is dropped on erase, and whoever drops the last one frees, at once.
public struct SPFRWLock: Strategy, SequencedVMAWrites {
    public static let info = StrategyInfo(
        name: "spf-rwlock",
        summary: "speculative faults with a tree rwlock and VMA use counts; PTL trylock at commit; the last vma_put frees",
        origin: "Laurent Dufour, SPF v9 2018, \"Protect mm_rb tree with a rwlock\" (seed 000)")

    public let mm: MM
    public init(mm: MM) { self.mm = mm }

    public func treeWriteBegin() { mm.treeWriteLock() }
    public func treeWriteEnd() { mm.treeWriteUnlock() }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        speculativeFault(page, write: write, putOnAbort: true, &ctx)
    }

    @inline(__always)
    func speculativeFault(_ page: UInt64, write: Bool, putOnAbort: Bool, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculativeAttempt)
        mm.treeReadLock()
        let found = ctx.find(mm, page)
        if let v = found {
            ctx.delay(.afterLookup)
            v.pointee.refs.get()
        }
        mm.treeReadUnlock()
        guard let v = found else {
            return ctx.fallback(mm, .abortNotFound, page, write: write)
        }
        let id = v.id
        ctx.delay(.afterPin)
        var result = ctx.checkLive(v, id: id)
            ?? SpeculativeFault.handle(mm, v, id: id, page, write: write, ptl: .trylock, &ctx)
        ctx.delay(.afterCommit)
        if let violation = ctx.readPipe(v, id: id) ?? ctx.checkLive(v, id: id) { result = violation }
        if let result {
            mm.put(v)
            if !result.isViolation { ctx.note(.speculativeSuccess) }
            return result
        }
        if putOnAbort { mm.put(v) }
        return ctx.fallback(mm, nil, page, write: write)
    }
}
