/// The ordered list of VMAs (the role of the kernel's `vm_next` list, and
/// of the maple tree's iteration that replaced it): a B+tree of record
/// pointers in manually managed memory, keyed by start. Leaves keep each
/// VMA's start and end; branches keep each child's span and largest free
/// range, so finding a VMA, its neighbours or a free range of a given size
/// (get_unmapped_area) costs O(log n), and nodes are taken as VMAs are.
/// Writers navigate it; the checker compares the lookup tree (`VMATree`)
/// with it.
///
/// Not safe for lockless readers: callers hold the mm lock (readers share it,
/// writers own it). Faults look VMAs up in the `VMATree` instead. A writer
/// that changes a listed VMA's start or end calls `refresh` before it
/// navigates again.
public struct VMAList: @unchecked Sendable {
    struct State {
        var root: VMAListNodePtr
        var count = 0
        var pool: VMAListNodePool
    }

    let state: UnsafeMutablePointer<State>

    public init(memory: MemoryPolicy = .system) {
        var pool = VMAListNodePool(memory: memory)
        let root = pool.take(leaf: true)
        state = .allocate(capacity: 1)
        state.initialize(to: State(root: root, pool: pool))
    }

    public var count: Int { state.pointee.count }
    var root: VMAListNodePtr { state.pointee.root }
    typealias Position = (leaf: VMAListNodePtr, slot: Int)

    // MARK: Finding

    /// The first VMA whose end is above `page` (the one covering `page`, or the next one after it).
    @inline(__always)
    public func first(endingAfter page: UInt64) -> VMAPtr? {
        seek(endingAfter: page).map { $0.leaf.vma($0.slot) }
    }

    /// find_vma, then the bounds check: the VMA covering `page`, if any.
    @inline(__always)
    public func find(_ page: UInt64) -> VMAPtr? {
        guard let at = seek(endingAfter: page), at.leaf.pointee.lo[at.slot] <= page else { return nil }
        return at.leaf.vma(at.slot)
    }

    /// The VMA after `v` in the list.
    public func next(after v: VMAPtr) -> VMAPtr? {
        locate(v).flatMap(step(after:)).map { $0.leaf.vma($0.slot) }
    }

    /// The VMAs in order, from the first ending above `page` (with `withPrevious`,
    /// from the one before it, or the last one when none ends above `page`),
    /// while `body` returns true. `body` must not insert or erase.
    public func forEach(from page: UInt64, withPrevious: Bool = false, _ body: (VMAPtr) -> Bool) {
        var at = seek(endingAfter: page)
        if withPrevious { at = at.map { step(before: $0) ?? $0 } ?? last() }
        while let p = at {
            guard body(p.leaf.vma(p.slot)) else { return }
            at = step(after: p)
        }
    }

    /// The VMAs in order.
    public func forEach(_ body: (VMAPtr) -> Void) {
        forEach(from: 0) { body($0); return true }
    }

    /// The VMAs in order, as an array (for audits).
    public var all: [VMAPtr] {
        var out: [VMAPtr] = []
        out.reserveCapacity(count)
        forEach { out.append($0) }
        return out
    }

    /// The lowest free `[c, c + count)` with `from <= c` and `c + count <= below`:
    /// branches whose largest free range is too small are skipped whole.
    public func firstGap(count: UInt64, from: UInt64, below: UInt64) -> PageRange? {
        var c = from
        guard count > 0, c + count <= below else { return nil }
        switch gapSearch(root, count: count, below: below, &c) {
        case .found: return PageRange(start: c, count: count)
        case .exhausted: return nil
        case .onward: return c + count <= below ? PageRange(start: c, count: count) : nil
        }
    }

    private enum GapSearch { case found, exhausted, onward }

    /// Advances `c` past every entry of `n` that ends above it until the space
    /// before an entry holds `count` pages.
    private func gapSearch(_ n: VMAListNodePtr, count: UInt64, below: UInt64, _ c: inout UInt64) -> GapSearch {
        let leaf = n.isLeaf
        for i in 0..<n.count {
            let hi = n.pointee.hi[i]
            if hi <= c { continue }
            if c + count > below { return .exhausted }
            if n.pointee.lo[i] >= c + count { return .found }
            if !leaf && n.pointee.gap[i] >= count {
                let r = gapSearch(n.child(i), count: count, below: below, &c)
                if r != .onward { return r }
            }
            c = max(c, hi)
        }
        return .onward
    }

    // MARK: Changing

    /// Inserts `v` by start.
    public func insert(_ v: VMAPtr) {
        let s = v.start
        if root.count == VMAListNode.fanout {
            let top = state.pointee.pool.take(leaf: false)
            top.pointee.item[0] = UnsafeMutableRawPointer(root)
            top.pointee.count = 1
            root.pointee.parent = top
            state.pointee.root = top
            split(top, 0)
        }
        var n = root
        while !n.isLeaf {
            var i = 0
            while i + 1 < n.count && n.pointee.lo[i + 1] <= s { i += 1 }
            if n.child(i).count == VMAListNode.fanout {
                split(n, i)
                if n.pointee.lo[i + 1] <= s { i += 1 }
            }
            n = n.child(i)
        }
        var j = 0
        while j < n.count && n.pointee.lo[j] <= s { j += 1 }
        n.openSlot(j)
        n.pointee.lo[j] = s
        n.pointee.hi[j] = v.end
        n.pointee.gap[j] = 0
        n.pointee.item[j] = UnsafeMutableRawPointer(v)
        state.pointee.count += 1
        fixUp(n)
    }

    /// Removes `v`. Returns false when it is not listed.
    @discardableResult
    public func erase(_ v: VMAPtr) -> Bool {
        guard let at = locate(v) else { return false }
        at.leaf.closeSlot(at.slot)
        state.pointee.count -= 1
        rebalance(at.leaf)
        return true
    }

    /// `v`'s start or end changed (its start was `oldStart`): its entry and
    /// the spans and gaps above it follow. The order must not change.
    public func refresh(_ v: VMAPtr, oldStart: UInt64? = nil) {
        guard let at = locate(v, key: oldStart ?? v.start) else { return }
        at.leaf.pointee.lo[at.slot] = v.start
        at.leaf.pointee.hi[at.slot] = v.end
        fixUp(at.leaf)
    }

    // MARK: Positions

    private func seek(endingAfter page: UInt64) -> Position? {
        var n = root
        while !n.isLeaf {
            var i = 0
            let c = n.count
            while i < c && n.pointee.hi[i] <= page { i += 1 }
            guard i < c else { return nil }
            n = n.child(i)
        }
        var j = 0
        while j < n.count && n.pointee.hi[j] <= page { j += 1 }
        return j < n.count ? (n, j) : nil
    }

    /// `v`'s leaf and slot, searched by `key` (its start as listed), then by identity.
    private func locate(_ v: VMAPtr, key: UInt64? = nil) -> Position? {
        let s = key ?? v.start
        let target = UnsafeMutableRawPointer(v)
        var n = root
        while !n.isLeaf {
            // The leftmost child that may hold `s`: the one before the first child starting at or after it.
            var i = 0
            while i < n.count && n.pointee.lo[i] < s { i += 1 }
            n = n.child(max(i - 1, 0))
        }
        var leaf: VMAListNodePtr? = n
        while let l = leaf {
            for j in 0..<l.count {
                if l.pointee.item[j] == target { return (l, j) }
                if l.pointee.lo[j] > s { return scan(for: target) }
            }
            leaf = l.pointee.next
        }
        return scan(for: target)
    }

    /// Every leaf in turn: for a key that no longer matches (a broken writer).
    private func scan(for target: UnsafeMutableRawPointer) -> Position? {
        var n = root
        while !n.isLeaf { n = n.child(0) }
        var leaf: VMAListNodePtr? = n
        while let l = leaf {
            for j in 0..<l.count where l.pointee.item[j] == target { return (l, j) }
            leaf = l.pointee.next
        }
        return nil
    }

    private func step(after p: Position) -> Position? {
        if p.slot + 1 < p.leaf.count { return (p.leaf, p.slot + 1) }
        guard let n = p.leaf.pointee.next, n.count > 0 else { return nil }
        return (n, 0)
    }

    private func step(before p: Position) -> Position? {
        if p.slot > 0 { return (p.leaf, p.slot - 1) }
        guard let n = p.leaf.pointee.prev, n.count > 0 else { return nil }
        return (n, n.count - 1)
    }

    private func last() -> Position? {
        var n = root
        while !n.isLeaf { n = n.child(n.count - 1) }
        return n.count > 0 ? (n, n.count - 1) : nil
    }

    // MARK: Balance

    /// Rewrites the spans and gaps on the path from `n` to the root.
    private func fixUp(_ n: VMAListNodePtr) {
        var n = n
        while let p = n.pointee.parent {
            p.summarize(n.slotInParent())
            n = p
        }
    }

    /// Splits `p`'s full child `i` in two halves, the upper one a new child `i + 1`.
    private func split(_ p: VMAListNodePtr, _ i: Int) {
        let c = p.child(i)
        let r = state.pointee.pool.take(leaf: c.isLeaf)
        let half = c.count / 2
        for k in half..<c.count {
            c.copyEntry(k, to: r, k - half)
            if !c.isLeaf { r.child(k - half).pointee.parent = r }
            c.pointee.item[k] = nil
        }
        r.pointee.count = c.count - half
        c.pointee.count = half
        if c.isLeaf {
            r.pointee.next = c.pointee.next
            r.pointee.prev = c
            c.pointee.next?.pointee.prev = r
            c.pointee.next = r
        }
        r.pointee.parent = p
        p.openSlot(i + 1)
        p.pointee.item[i + 1] = UnsafeMutableRawPointer(r)
        p.summarize(i)
        p.summarize(i + 1)
    }

    /// After an erase from `n`: merges or evens out underfull nodes up the
    /// path, drops a root branch left with one child, and rewrites the summaries.
    private func rebalance(_ n: VMAListNodePtr) {
        var n = n
        while true {
            guard let p = n.pointee.parent else {
                if !n.isLeaf && n.count == 1 {
                    let c = n.child(0)
                    c.pointee.parent = nil
                    state.pointee.root = c
                    state.pointee.pool.give(n)
                }
                return
            }
            guard n.count < VMAListNode.minFill, p.count >= 2 else { return fixUp(n) }
            let i = n.slotInParent()
            let li = i > 0 ? i - 1 : i
            let left = p.child(li), right = p.child(li + 1)
            if left.count + right.count <= VMAListNode.fanout {
                for k in 0..<right.count {
                    right.copyEntry(k, to: left, left.count + k)
                    if !left.isLeaf { left.child(left.count + k).pointee.parent = left }
                }
                left.pointee.count += right.count
                if left.isLeaf {
                    left.pointee.next = right.pointee.next
                    right.pointee.next?.pointee.prev = left
                }
                p.closeSlot(li + 1)
                p.summarize(li)
                state.pointee.pool.give(right)
                n = p
            } else {
                even(left, right)
                p.summarize(li)
                p.summarize(li + 1)
                return fixUp(p)
            }
        }
    }

    /// Moves entries between two neighbouring nodes until they hold about as many each.
    private func even(_ left: VMAListNodePtr, _ right: VMAListNodePtr) {
        let want = (left.count + right.count) / 2
        while left.count < want {
            right.copyEntry(0, to: left, left.count)
            left.pointee.count += 1
            if !left.isLeaf { left.child(left.count - 1).pointee.parent = left }
            right.closeSlot(0)
        }
        while left.count > want {
            right.openSlot(0)
            left.copyEntry(left.count - 1, to: right, 0)
            if !right.isLeaf { right.child(0).pointee.parent = right }
            left.pointee.count -= 1
            left.pointee.item[left.count] = nil
        }
    }

    // MARK: Audit and memory

    /// The list's own shape: keys that match the VMAs, summaries that match
    /// the children, parents, fill, the leaf chain and the count. Empty when sound.
    public func audit() -> [String] {
        var problems: [String] = []
        var listed = 0
        func visit(_ n: VMAListNodePtr, depth: Int, leafDepth: inout Int?) {
            if n != root && n.count < VMAListNode.minFill { problems.append("a node holds \(n.count) entries, under \(VMAListNode.minFill)") }
            if n.isLeaf {
                if let d = leafDepth, d != depth { problems.append("leaves at depths \(d) and \(depth)") }
                leafDepth = depth
                for j in 0..<n.count {
                    let v = n.vma(j)
                    if n.pointee.lo[j] != v.start || n.pointee.hi[j] != v.end {
                        problems.append("listed as [\(n.pointee.lo[j]), \(n.pointee.hi[j])), the VMA is \(v.range)")
                    }
                }
                listed += n.count
                return
            }
            for i in 0..<n.count {
                let c = n.child(i)
                if c.pointee.parent != n { problems.append("a child's parent link is wrong") }
                let s = c.span()
                if s.lo != n.pointee.lo[i] || s.hi != n.pointee.hi[i] || s.gap != n.pointee.gap[i] {
                    problems.append("a branch entry says span [\(n.pointee.lo[i]), \(n.pointee.hi[i])) gap \(n.pointee.gap[i]), its child has [\(s.lo), \(s.hi)) gap \(s.gap)")
                }
                visit(c, depth: depth + 1, leafDepth: &leafDepth)
            }
        }
        var leafDepth: Int? = nil
        visit(root, depth: 0, leafDepth: &leafDepth)
        if listed != count { problems.append("the leaves hold \(listed) VMAs, the count says \(count)") }
        var chained = 0
        forEach { _ in chained += 1 }
        if chained != listed { problems.append("the leaf chain reaches \(chained) of \(listed) VMAs") }
        return problems
    }

    /// The nodes' memory, for residency queries.
    public var regions: [(UnsafeRawPointer, Int)] { state.pointee.pool.regions }
    public var bytesAllocated: Int { state.pointee.pool.chunkCount * VMAListNodePool.chunkBytes }

    public func destroy() {
        state.pointee.pool.destroy()
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
