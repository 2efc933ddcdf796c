import Synchronization

/// A red-black tree of VMAs keyed by start, its links embedded in the records
/// (`vm_rb`), in the manner of the kernel's lib/rbtree.c: writers (holding
/// the mm write lock) store child pointers one at a time, in an order that
/// never makes a cycle, so a lockless walker always terminates. It may miss
/// a node that a rotation or an erase is moving; the SPF strategies catch
/// that with the mm seqlock retry.
///
/// The ordering rules, from lib/rbtree.c: a node's own links are set before
/// the release store that makes it reachable (rb_link_node_rcu); a rotation
/// first detaches the child that moves up, then hangs the old parent under
/// it, then publishes it in the old parent's place; an erase unlinks the
/// successor from its old position before it takes the erased node's.
public struct RBTree: @unchecked Sendable {
    let rootPtr: UnsafeMutablePointer<Atomic<VMAPtr?>>
    let countPtr: UnsafeMutablePointer<Int>

    /// A walker gives up after this many steps (a miss, as during a rotation):
    /// only a broken writer or a freed record could make the path this long.
    static let maxDepth = 128

    public init() {
        rootPtr = .allocate(capacity: 1)
        rootPtr.initialize(to: Atomic(nil))
        countPtr = .allocate(capacity: 1)
        countPtr.initialize(to: 0)
    }

    public func destroy() {
        rootPtr.deallocate()
        countPtr.deallocate()
    }

    public var count: Int { countPtr.pointee }
    var root: VMAPtr? { rootPtr.pointee.load(ordering: .acquiring) }

    // MARK: Lockless read side

    /// The VMA covering `page`, or nil (none, or missed during a rotation).
    /// acquiring loads: each pairs with the releasing store that published the node.
    @inline(__always)
    /// A walk that passes a freed (poisoned) record counts it in `freed`
    /// and stops: a lockless reader on freed memory is a use-after-free,
    /// whatever it would have done next.
    public func find(_ page: UInt64, freed: inout UInt64) -> VMAPtr? {
        var step = NoWalkStep()
        return find(page, freed: &freed, step: &step)
    }

    /// `find`, passing `step` after each level.
    @inline(__always)
    public func find<W: WalkStep>(_ page: UInt64, freed: inout UInt64, step: inout W) -> VMAPtr? {
        var n = rootPtr.pointee.load(ordering: .acquiring)
        var steps = 0
        while let x = n, steps < Self.maxDepth {
            let start = x.start
            if page < start {
                // A freed record's start is the poison, above every page: checked on this side only.
                if start == VMA.poison {
                    freed &+= 1
                    return nil
                }
                n = x.pointee.rbLeft.load(ordering: .acquiring)
            } else if page >= x.end {
                n = x.pointee.rbRight.load(ordering: .acquiring)
            } else {
                return x
            }
            steps &+= 1
            step.level()
        }
        return nil
    }

    // MARK: Writer side (mm write lock held)

    @inline(__always) static func left(_ n: VMAPtr) -> VMAPtr? { n.pointee.rbLeft.load(ordering: .relaxed) }
    @inline(__always) static func right(_ n: VMAPtr) -> VMAPtr? { n.pointee.rbRight.load(ordering: .relaxed) }
    @inline(__always) static func parent(_ n: VMAPtr) -> VMAPtr? { n.pointee.rbParent.load(ordering: .relaxed) }
    @inline(__always) static func isRed(_ n: VMAPtr?) -> Bool { n?.pointee.rbRed.load(ordering: .relaxed) ?? false }
    @inline(__always) static func setRed(_ n: VMAPtr, _ red: Bool) { n.pointee.rbRed.store(red, ordering: .relaxed) }
    @inline(__always) static func setParent(_ n: VMAPtr?, _ p: VMAPtr?) { n?.pointee.rbParent.store(p, ordering: .relaxed) }
    /// WRITE_ONCE of a child link; releasing, so a newly reachable node is seen initialised.
    @inline(__always) static func setLeft(_ n: VMAPtr, _ c: VMAPtr?) { n.pointee.rbLeft.store(c, ordering: .releasing) }
    @inline(__always) static func setRight(_ n: VMAPtr, _ c: VMAPtr?) { n.pointee.rbRight.store(c, ordering: .releasing) }

    /// __rb_change_child: `new` takes `old`'s place under `p` (or at the root).
    func replaceChild(of p: VMAPtr?, _ old: VMAPtr, with new: VMAPtr?) {
        if let p {
            if Self.left(p) == old { Self.setLeft(p, new) } else { Self.setRight(p, new) }
        } else {
            rootPtr.pointee.store(new, ordering: .releasing)
        }
    }

    /// x's right child y moves up. Stores: x.right = y.left (y's subtree is
    /// now out of readers' reach), y.left = x, then y replaces x under x's parent.
    func rotateLeft(_ x: VMAPtr) {
        let y = Self.right(x)!
        let t = Self.left(y)
        Self.setRight(x, t)
        Self.setParent(t, x)
        Self.setLeft(y, x)
        let p = Self.parent(x)
        Self.setParent(y, p)
        replaceChild(of: p, x, with: y)
        Self.setParent(x, y)
    }

    /// The mirror of `rotateLeft`.
    func rotateRight(_ x: VMAPtr) {
        let y = Self.left(x)!
        let t = Self.right(y)
        Self.setLeft(x, t)
        Self.setParent(t, x)
        Self.setRight(y, x)
        let p = Self.parent(x)
        Self.setParent(y, p)
        replaceChild(of: p, x, with: y)
        Self.setParent(x, y)
    }

    /// Inserts `v` by its start (after any equal starts, which only a broken writer makes).
    public func insert(_ v: VMAPtr) {
        var parent: VMAPtr? = nil
        var goLeft = false
        var n = root
        let key = v.start
        while let x = n {
            parent = x
            goLeft = key < x.start
            n = goLeft ? Self.left(x) : Self.right(x)
        }
        // rb_link_node_rcu: the node's own links first, then one releasing store publishes it.
        v.pointee.rbLeft.store(nil, ordering: .relaxed)
        v.pointee.rbRight.store(nil, ordering: .relaxed)
        Self.setParent(v, parent)
        Self.setRed(v, true)
        if let parent {
            if goLeft { Self.setLeft(parent, v) } else { Self.setRight(parent, v) }
        } else {
            rootPtr.pointee.store(v, ordering: .releasing)
        }
        countPtr.pointee += 1
        insertFixup(v)
    }

    func insertFixup(_ node: VMAPtr) {
        var z = node
        while let p = Self.parent(z), Self.isRed(p) {
            let g = Self.parent(p)!  // a red node is never the root
            if p == Self.left(g) {
                let u = Self.right(g)
                if Self.isRed(u) {
                    Self.setRed(p, false)
                    Self.setRed(u!, false)
                    Self.setRed(g, true)
                    z = g
                    continue
                }
                if z == Self.right(p) {
                    z = p
                    rotateLeft(z)
                }
                let zp = Self.parent(z)!
                Self.setRed(zp, false)
                Self.setRed(g, true)
                rotateRight(g)
            } else {
                let u = Self.left(g)
                if Self.isRed(u) {
                    Self.setRed(p, false)
                    Self.setRed(u!, false)
                    Self.setRed(g, true)
                    z = g
                    continue
                }
                if z == Self.left(p) {
                    z = p
                    rotateRight(z)
                }
                let zp = Self.parent(z)!
                Self.setRed(zp, false)
                Self.setRed(g, true)
                rotateLeft(g)
            }
        }
        if let r = root { Self.setRed(r, false) }
    }

    /// Removes `z`. Its own links are left as they were, so a walker standing
    /// on it still finds its way down (lib/rbtree.c does the same).
    public func erase(_ z: VMAPtr) {
        var removedRed = Self.isRed(z)
        var x: VMAPtr?
        var xParent: VMAPtr?
        let zl = Self.left(z), zr = Self.right(z)
        if zl == nil || zr == nil {
            x = zl ?? zr
            xParent = Self.parent(z)
            Self.setParent(x, xParent)
            replaceChild(of: xParent, z, with: x)
        } else {
            var y = zr!
            while let l = Self.left(y) { y = l }
            removedRed = Self.isRed(y)
            x = Self.right(y)
            if Self.parent(y) == z {
                xParent = y
                Self.setLeft(y, zl)
                Self.setParent(zl, y)
            } else {
                // The successor leaves its old place before it takes z's.
                let yp = Self.parent(y)!
                xParent = yp
                Self.setLeft(yp, x)
                Self.setParent(x, yp)
                Self.setRight(y, zr)
                Self.setParent(zr, y)
                Self.setLeft(y, zl)
                Self.setParent(zl, y)
            }
            let zp = Self.parent(z)
            Self.setParent(y, zp)
            Self.setRed(y, Self.isRed(z))
            replaceChild(of: zp, z, with: y)
        }
        countPtr.pointee -= 1
        if !removedRed { eraseFixup(x, xParent) }
    }

    func eraseFixup(_ start: VMAPtr?, _ startParent: VMAPtr?) {
        var x = start
        var xp = startParent
        while x != root && !Self.isRed(x), let p = xp {
            if x == Self.left(p) {
                var w = Self.right(p)!
                if Self.isRed(w) {
                    Self.setRed(w, false)
                    Self.setRed(p, true)
                    rotateLeft(p)
                    w = Self.right(p)!
                }
                if !Self.isRed(Self.left(w)) && !Self.isRed(Self.right(w)) {
                    Self.setRed(w, true)
                    x = p
                    xp = Self.parent(p)
                } else {
                    if !Self.isRed(Self.right(w)) {
                        Self.setRed(Self.left(w)!, false)
                        Self.setRed(w, true)
                        rotateRight(w)
                        w = Self.right(p)!
                    }
                    Self.setRed(w, Self.isRed(p))
                    Self.setRed(p, false)
                    if let r = Self.right(w) { Self.setRed(r, false) }
                    rotateLeft(p)
                    x = root
                    xp = nil
                }
            } else {
                var w = Self.left(p)!
                if Self.isRed(w) {
                    Self.setRed(w, false)
                    Self.setRed(p, true)
                    rotateRight(p)
                    w = Self.left(p)!
                }
                if !Self.isRed(Self.left(w)) && !Self.isRed(Self.right(w)) {
                    Self.setRed(w, true)
                    x = p
                    xp = Self.parent(p)
                } else {
                    if !Self.isRed(Self.left(w)) {
                        Self.setRed(Self.right(w)!, false)
                        Self.setRed(w, true)
                        rotateLeft(w)
                        w = Self.left(p)!
                    }
                    Self.setRed(w, Self.isRed(p))
                    Self.setRed(p, false)
                    if let l = Self.left(w) { Self.setRed(l, false) }
                    rotateRight(p)
                    x = root
                    xp = nil
                }
            }
        }
        if let x { Self.setRed(x, false) }
    }

    // MARK: Checker side (writers excluded)

    /// The VMAs in order, and what is wrong with the tree's shape: parent
    /// links, red-red edges, unequal black heights, the count.
    public func audit() -> (inOrder: [VMAPtr], problems: [String]) {
        var order: [VMAPtr] = []
        var problems: [String] = []
        if Self.isRed(root) { problems.append("the root is red") }
        if let r = root, Self.parent(r) != nil { problems.append("the root has a parent") }
        _ = walk(root, parent: nil, depth: 0, &order, &problems)
        if let i = order.indices.dropFirst().first(where: { order[$0 - 1].start > order[$0].start }) {
            problems.append("keys out of order: \(order[i - 1].summary) before \(order[i].summary)")
        }
        if order.count != count { problems.append("\(order.count) nodes reachable, count says \(count)") }
        return (order, problems)
    }

    /// In-order walk; returns the subtree's black height.
    private func walk(_ n: VMAPtr?, parent: VMAPtr?, depth: Int, _ order: inout [VMAPtr], _ problems: inout [String]) -> Int {
        guard let n else { return 1 }
        guard depth < Self.maxDepth, problems.count < 8 else {
            problems.append("deeper than \(Self.maxDepth) (a cycle?)")
            return 0
        }
        if Self.parent(n) != parent { problems.append("parent link of \(n.summary) is wrong") }
        if Self.isRed(n) && (Self.isRed(Self.left(n)) || Self.isRed(Self.right(n))) {
            problems.append("red \(n.summary) has a red child")
        }
        let lh = walk(Self.left(n), parent: n, depth: depth + 1, &order, &problems)
        order.append(n)
        let rh = walk(Self.right(n), parent: n, depth: depth + 1, &order, &problems)
        if lh != rh { problems.append("black heights differ under \(n.summary) (\(lh) and \(rh))") }
        return lh + (Self.isRed(n) ? 0 : 1)
    }
}
