/// The lockless index kinds (`--index`).
public enum IndexKind: String, CaseIterable, Codable, Sendable {
    /// lib/rbtree.c style; links embedded in the VMAs (the mm_rb era).
    case rbtree
    /// Copy-on-write B+tree with RCU-deferred node frees (the maple tree's RCU mode).
    case btree
}

/// The index faults look VMAs up in: one of the two trees, chosen per run.
/// Writers keep it in step with the ordered `VMAList` under the mm write
/// lock; readers use it under their strategy's protocol.
public struct VMATree: @unchecked Sendable {
    public let kind: IndexKind
    public let rb: RBTree
    public let bt: BTree

    /// `room`: B-tree nodes beyond `capacity`, for the ones waiting on grace periods.
    public init(kind: IndexKind, capacity: Int, memory: MemoryPolicy = .system, room: Int = 32_768) {
        self.kind = kind
        rb = RBTree()
        // Live nodes are about capacity/8; the rest is room for nodes waiting on grace periods.
        bt = BTree(capacity: kind == .btree ? capacity + room : 0, memory: memory)
    }

    /// The VMA covering `page`, or nil. A lockless caller must validate what
    /// it gets (the rbtree may miss during a rotation; both may return a VMA
    /// being changed or removed); `restarts` counts B-tree walks begun again.
    @inline(__always)
    public func find(_ page: UInt64, restarts: inout UInt64, freed: inout UInt64) -> VMAPtr? {
        var step = NoWalkStep()
        return find(page, restarts: &restarts, freed: &freed, step: &step)
    }

    /// `find`, passing `step` after each level of the descent.
    @inline(__always)
    public func find<W: WalkStep>(_ page: UInt64, restarts: inout UInt64, freed: inout UInt64, step: inout W) -> VMAPtr? {
        var leaf: UInt = 0
        return kind == .rbtree ? rb.find(page, freed: &freed, step: &step)
            : bt.find(page, restarts: &restarts, freed: &freed, leaf: &leaf, step: &step)
    }

    @inline(__always)
    public func find(_ page: UInt64) -> VMAPtr? {
        var restarts: UInt64 = 0, freed: UInt64 = 0
        return find(page, restarts: &restarts, freed: &freed)
    }

    public func insert(_ v: VMAPtr) {
        switch kind {
        case .rbtree: rb.insert(v)
        case .btree: bt.insert(v)
        }
    }

    public func erase(_ v: VMAPtr) {
        switch kind {
        case .rbtree: rb.erase(v)
        case .btree: bt.erase(v)
        }
    }

    /// `v`'s start moved from `old` (the rbtree reads keys from the VMAs, so only the B-tree stores it).
    public func rekey(_ v: VMAPtr, from old: UInt64) {
        if kind == .btree { bt.rekey(v, from: old) }
    }

    public var count: Int { kind == .rbtree ? rb.count : bt.count }

    /// The VMAs in index order and the tree's structural problems (writers excluded).
    public func audit(pendingNodes: Int = 0) -> (inOrder: [VMAPtr], problems: [String]) {
        kind == .rbtree ? rb.audit() : bt.audit(pendingNodes: pendingNodes)
    }

    public func destroy() {
        rb.destroy()
        bt.destroy()
    }
}
