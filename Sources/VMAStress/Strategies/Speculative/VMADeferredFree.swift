extension DeferredFree {
    /// The VMA free path of the deferred strategies: one grace period, then
    /// the record goes back to the slab. The pipe stage (see `retireVMA`)
    /// becomes 2 when the grace period ends.
    static func vmaFree(_ mm: MM, source: Source) -> DeferredFree {
        DeferredFree(source: source, onGracePeriod: VMA.gracePeriodPassed, reclaim: { h in
            mm.vmas.free(VMAAllocator.vma(fromHeader: h))
        })
    }

    /// B-tree nodes replaced by writers are freed after an RCU grace period
    /// (for strategies whose readers walk the tree under rcu_read_lock).
    static func treeNodes(_ mm: MM, _ kind: RCUFlavorKind) -> DeferredFree? {
        guard mm.index.kind == .btree else { return nil }
        let free = DeferredFree(source: .rcu(kind), reclaim: { h in mm.index.bt.freeNode(header: h) })
        mm.index.bt.setReclaim(free)
        return free
    }

    /// Drops the tree's reference to an unlinked VMA; the last reference
    /// hands it to the grace periods.
    func retireVMA(_ v: VMAPtr, _ mm: MM) {
        switch v.pointee.refs.put() {
        case .last:
            v.markRemoved()
            retire(VMAAllocator.header(of: v), bytes: mm.vmas.bytesPerRecord)
        case .remaining: break
        case .underflow: mm.evidence.noteRefUnderflow(v)
        }
    }
}

extension VMA {
    /// The reader pipe, as rcutorture keeps it: stage 1 when the VMA is
    /// removed (readers may still see it), 2 when its grace period has
    /// ended. A reader that sees stage 2 was inside its read section while a
    /// whole grace period passed (PIPE).
    static let gracePeriodPassed: @Sendable (UnsafeMutableRawPointer) -> Void = { h in
        // releasing: a reader that sees the stage sees it after the grace period.
        VMAAllocator.vma(fromHeader: h).pointee.pipe.store(2, ordering: .releasing)
    }
}

extension UnsafeMutablePointer where Pointee == VMA {
    /// Pipe stage 1: unlinked, waiting for its grace period.
    func markRemoved() { pointee.pipe.store(1, ordering: .relaxed) }
}
