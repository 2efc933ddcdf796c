/// What a strategy does around the shared mutation code (`VMAOperations`):
/// the locks, the publication order and the freeing. The defaults are the
/// classic mmap_lock design's; each strategy overrides what its protocol adds
/// (DESIGN.md §1), and busted twins override one hook with a historical bug.
public protocol WriteSide {
    var mm: MM { get }

    /// Takes and drops `mmap_lock` for write around every mutation.
    func mmWriteLock()
    func mmWriteUnlock()

    /// Brackets every index insert or erase (mm seqlock, tree rwlock).
    func treeWriteBegin()
    func treeWriteEnd()

    /// Brackets every change to a reachable VMA's fields or PTEs (VMA seqcount,
    /// per-VMA write lock).
    func vmaWriteBegin(_ v: VMAPtr)
    func vmaWriteEnd(_ v: VMAPtr)

    /// Called on a new VMA before it becomes reachable (per-VMA locks:
    /// write-lock it first, the rule from Jann Horn's review in seed 004).
    func vmaPrepare(_ v: VMAPtr)

    /// Called on a new VMA just before the tree store (6.15's vma_mark_attached).
    func vmaAttach(_ v: VMAPtr)

    /// Called on a VMA after it was unlinked and its PTEs zapped: drop the
    /// tree's reference and free it now or after readers are done.
    func vmaRetire(_ v: VMAPtr)

    /// zap_pte_range over `range`, which `v` covered. Returns PTEs cleared.
    func zapPTEs(_ range: PageRange, of v: VMAPtr) -> Int

    /// get_unmapped_area: a free range of `count` pages inside `within`,
    /// searched from `hint` upward, then from the start.
    func findGap(count: UInt64, within: PageRange, hint: UInt64) -> PageRange?
}

extension WriteSide {
    public func treeWriteBegin() {}
    public func treeWriteEnd() {}
    public func vmaWriteBegin(_ v: VMAPtr) {}
    public func vmaWriteEnd(_ v: VMAPtr) {}
    public func vmaPrepare(_ v: VMAPtr) {}
    public func vmaAttach(_ v: VMAPtr) {}

    /// Drops the tree's reference; frees at once when it was the last.
    public func vmaRetire(_ v: VMAPtr) { mm.put(v) }

    public func zapPTEs(_ range: PageRange, of v: VMAPtr) -> Int {
        mm.pageTable.zap(range)
    }

    public func findGap(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        guard count > 0, count <= within.count else { return nil }
        let from = min(max(hint, within.start), within.end - count)
        return mm.list.firstGap(count: count, from: from, below: within.end)
            ?? mm.list.firstGap(count: count, from: within.start, below: min(within.end, from + count))
    }
}
