import Synchronization

/// An RCU-safe B+tree of VMAs keyed by start, in the manner of the maple
/// tree's RCU mode: nodes never change once reachable. A writer (holding
/// the mm write lock) copies the path from the leaf it changes up to the
/// root, publishes the new root with one release store, then marks the
/// replaced nodes dead and retires them; they are freed after a grace
/// period (or at once when no lockless reader can be on them). A reader
/// that finds itself on a dead node restarts from the root.
///
/// Internal entries hold the smallest key of their child; leaf entries hold
/// a VMA's start (a copy: when a VMA's start moves, the writer re-keys it,
/// as the maple tree re-stores a range).
public struct BTree: @unchecked Sendable {
    public static let fanout = 16
    static let headerBytes = 64
    /// meta (count, leaf bit), dead flag, keys, slots: one word each.
    static let words = 2 + 2 * fanout
    static let stride = headerBytes + (words * 8 + 63) / 64 * 64

    let rootPtr: UnsafeMutablePointer<Atomic<UInt>>
    let writer: BTreeWriter

    /// `capacity` nodes; 0 for a tree that will not be used.
    public init(capacity: Int, memory: MemoryPolicy = .system) {
        rootPtr = .allocate(capacity: 1)
        rootPtr.initialize(to: Atomic(0))
        writer = BTreeWriter(capacity: capacity, memory: memory)
    }

    public func destroy() {
        rootPtr.deallocate()
        writer.destroy()
    }

    /// A node: its words, after a cache-line header holding the rcu_head.
    struct Node: Equatable {
        let raw: UInt
        @inline(__always) init(_ raw: UInt) { self.raw = raw }
        @inline(__always) var w: UnsafeMutablePointer<Atomic<UInt64>> {
            UnsafeMutablePointer(bitPattern: raw)!
        }
        @inline(__always) var count: Int { Int(w[0].load(ordering: .relaxed) & 0xFF) }
        @inline(__always) var isLeaf: Bool { w[0].load(ordering: .relaxed) & 0x100 != 0 }
        /// acquiring: pairs with the writer's releasing mark, after it published the replacement.
        @inline(__always) var isDead: Bool { w[1].load(ordering: .acquiring) != 0 }
        @inline(__always) var mark: UInt64 { w[1].load(ordering: .acquiring) }
        @inline(__always) func key(_ i: Int) -> UInt64 { w[2 + i].load(ordering: .relaxed) }
        @inline(__always) func slot(_ i: Int) -> UInt64 { w[2 + BTree.fanout + i].load(ordering: .relaxed) }
        var header: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: raw)! - BTree.headerBytes }

        /// The last entry whose key is at most `key` (0 when none is).
        @inline(__always) func entry(for key: UInt64) -> Int {
            var i = 0
            while i &+ 1 < count && self.key(i &+ 1) <= key { i &+= 1 }
            return i
        }
    }

    // MARK: Lockless read side (inside an RCU read section, or under a lock)

    /// A node's mark word: 0 live, `deadMark` replaced (still readable until
    /// its grace period ends), `freedMark` back in the free ring.
    static let deadMark: UInt64 = 1
    static let freedMark: UInt64 = VMA.poison

    /// The VMA covering `page`, or nil. `restarts` counts walks begun again
    /// because they met a dead node; after eight the walk gives up (a miss).
    /// A walk that lands on a freed node counts it in `freed` and stops: no
    /// reader may reach one, even if it would then restart cleanly.
    @inline(__always)
    public func find(_ page: UInt64, restarts: inout UInt64, freed: inout UInt64) -> VMAPtr? {
        var leaf: UInt = 0, step = NoWalkStep()
        return find(page, restarts: &restarts, freed: &freed, leaf: &leaf, step: &step)
    }

    /// `find`, also giving the leaf the walk ended in (what a maple state
    /// keeps); `step` is passed after each level.
    @inline(__always)
    public func find<W: WalkStep>(_ page: UInt64, restarts: inout UInt64, freed: inout UInt64, leaf: inout UInt,
                                  step: inout W) -> VMAPtr? {
        var attempts = 0
        walk: while attempts < 8 {
            attempts &+= 1
            var raw = rootPtr.pointee.load(ordering: .acquiring)
            var depth = 0
            while raw != 0 && depth < 32 {
                let n = Node(raw)
                let count = n.count
                let i = n.entry(for: page)
                let key = n.key(i), slot = n.slot(i), isLeaf = n.isLeaf
                let mark = n.mark
                if mark != 0 {
                    if mark == Self.freedMark {
                        freed &+= 1
                        return nil
                    }
                    restarts &+= 1
                    continue walk
                }
                if isLeaf {
                    leaf = raw
                    guard count > 0, key <= page, let v = VMAPtr(bitPattern: UInt(slot)) else { return nil }
                    return page < v.end ? v : nil
                }
                raw = UInt(slot)
                depth &+= 1
                step.level()
            }
            return nil
        }
        return nil
    }

    /// A walk resumed at `leaf`, a node an earlier walk ended in (a maple
    /// state not reset): a freed node counts in `freed`; a dead one, or one
    /// whose range does not hold `page`, sends the walk back to the root.
    @inline(__always)
    public func find<W: WalkStep>(_ page: UInt64, resumingAt leaf: UInt, restarts: inout UInt64, freed: inout UInt64,
                                  step: inout W) -> VMAPtr? {
        let n = Node(leaf)
        let mark = n.mark
        if mark == Self.freedMark {
            freed &+= 1
            return nil
        }
        if mark == 0 && n.count > 0 && n.key(0) <= page {
            let i = n.entry(for: page)
            if let v = VMAPtr(bitPattern: UInt(n.slot(i))), page < v.end { return v }
        }
        var root: UInt = 0
        return find(page, restarts: &restarts, freed: &freed, leaf: &root, step: &step)
    }

    // MARK: Writer side (mm write lock held)

    public func insert(_ v: VMAPtr) {
        writer.insert(v, root: rootPtr)
    }

    /// Removes `v`; false when it is not in the tree.
    @discardableResult
    public func erase(_ v: VMAPtr) -> Bool {
        writer.erase(v, root: rootPtr)
    }

    /// `v`'s start moved from `old`: store its new key.
    public func rekey(_ v: VMAPtr, from old: UInt64) {
        writer.rekey(v, from: old, root: rootPtr)
    }

    /// Where replaced nodes go: after a grace period of this deferred free, or at once when nil.
    public func setReclaim(_ reclaim: DeferredFree?) { writer.reclaim = reclaim }
    /// The free callback for a node header (for the deferred free's reclaim).
    public func freeNode(header: UnsafeMutableRawPointer) { writer.free(Node(UInt(bitPattern: header + Self.headerBytes))) }

    public var count: Int { writer.entries }
    public var nodesInUse: Int { writer.nodesInUse }

    // MARK: Checker side (writers excluded)

    /// The VMAs in order, and what is wrong: dead or overfull nodes, keys out
    /// of order or not the child's smallest, leaf keys that are not the VMA's
    /// start, leaves at different depths, nodes neither reachable nor freed.
    public func audit(pendingNodes: Int) -> (inOrder: [VMAPtr], problems: [String]) {
        var order: [VMAPtr] = []
        var problems: [String] = []
        var leafDepth = -1
        var reachable = 0
        func visit(_ n: Node, depth: Int) {
            reachable += 1
            guard problems.count < 8 else { return }
            if n.isDead { problems.append("a reachable node is marked dead") }
            let c = n.count
            if c < 1 || c > Self.fanout { problems.append("a node holds \(c) entries") }
            for i in 1..<max(c, 1) where n.key(i - 1) > n.key(i) {
                problems.append("keys out of order in a node (\(n.key(i - 1)) before \(n.key(i)))")
            }
            if n.isLeaf {
                if leafDepth < 0 { leafDepth = depth }
                if leafDepth != depth { problems.append("leaves at depths \(leafDepth) and \(depth)") }
                for i in 0..<c {
                    guard let v = VMAPtr(bitPattern: UInt(n.slot(i))) else {
                        problems.append("an empty leaf slot")
                        continue
                    }
                    if v.start != n.key(i) { problems.append("leaf key \(n.key(i)) for \(v.summary)") }
                    order.append(v)
                }
            } else {
                for i in 0..<c {
                    let child = Node(UInt(n.slot(i)))
                    if child.count > 0 && child.key(0) != n.key(i) {
                        problems.append("internal key \(n.key(i)) but the child starts at \(child.key(0))")
                    }
                    visit(child, depth: depth + 1)
                }
            }
        }
        let root = rootPtr.pointee.load(ordering: .acquiring)
        if root != 0 { visit(Node(root), depth: 0) }
        if order.count != count { problems.append("\(order.count) VMAs reachable, count says \(count)") }
        if reachable + pendingNodes != nodesInUse {
            problems.append("\(nodesInUse) nodes allocated, \(reachable) reachable and \(pendingNodes) waiting for a grace period")
        }
        return (order, problems)
    }
}

/// The B-tree's writer side: the node slab, its free ring, and scratch space
/// (no allocation per operation). Only writers and the reclaim callback use it.
final class BTreeWriter: @unchecked Sendable {
    typealias Node = BTree.Node
    static let fanout = BTree.fanout

    let capacity: Int
    let memory: MemoryPolicy
    let slab: UnsafeMutableRawPointer?
    /// Which node slot is next (fresh ones first, then freed ones, FIFO).
    let freeRing: Mutex<SlotRing>
    /// Freed nodes waiting behind one before it is reused.
    static let quarantine = 4096
    var reclaim: DeferredFree?
    private(set) var entries = 0
    private let allocated = Atomic<Int>(0)

    // Scratch, reused by every operation.
    var pathNodes: [Node] = []
    var pathIndex: [Int] = []
    var keys: [UInt64] = []
    var slots: [UInt64] = []
    var retired: [Node] = []
    var repl: [Node] = []

    init(capacity: Int, memory: MemoryPolicy) {
        self.capacity = capacity
        self.memory = memory
        slab = capacity > 0 ? NodeMemory.allocate(bytes: capacity * BTree.stride, policy: memory) : nil
        freeRing = Mutex(SlotRing(capacity: capacity, quarantine: Self.quarantine))
        pathNodes.reserveCapacity(40)
        pathIndex.reserveCapacity(40)
        keys.reserveCapacity(2 * Self.fanout + 2)
        slots.reserveCapacity(2 * Self.fanout + 2)
        retired.reserveCapacity(128)
        repl.reserveCapacity(4)
    }

    func destroy() {
        // The reclaim's closure holds the mm, and so this writer: a cycle, broken here.
        reclaim = nil
        if let slab { NodeMemory.free(slab, bytes: capacity * BTree.stride, policy: memory) }
    }

    func node(slot: Int) -> Node {
        Node(UInt(bitPattern: slab! + slot * BTree.stride + BTree.headerBytes))
    }

    var nodesInUse: Int { allocated.load(ordering: .relaxed) }

    /// A fresh node holding `keys[range]`/`slots[range]`; not yet reachable.
    func makeNode(leaf: Bool, _ range: Range<Int>) -> Node {
        let n = newNode(leaf: leaf, count: range.count)
        for (j, i) in range.enumerated() {
            n.w[2 + j].store(keys[i], ordering: .relaxed)
            n.w[2 + Self.fanout + j].store(slots[i], ordering: .relaxed)
        }
        return n
    }

    /// A fresh node holding `left`'s entries, then `right`'s; not yet reachable.
    func makeNode(concatenating left: Node, _ right: Node) -> Node {
        let n = newNode(leaf: left.isLeaf, count: left.count + right.count)
        for (offset, part) in [(0, left), (left.count, right)] {
            for i in 0..<part.count {
                n.w[2 + offset + i].store(part.key(i), ordering: .relaxed)
                n.w[2 + Self.fanout + offset + i].store(part.slot(i), ordering: .relaxed)
            }
        }
        return n
    }

    /// A node from the free ring with its count and kind set, entries to be filled.
    private func newNode(leaf: Bool, count: Int) -> Node {
        var slot = popFree()
        if slot == nil {
            // Every free node waits for a grace period: let the callbacks run, once.
            reclaim?.barrier()
            slot = popFree()
        }
        guard let slot else { fatalError("B-tree node slab exhausted (\(capacity) nodes)") }
        allocated.wrappingAdd(1, ordering: .relaxed)
        let n = node(slot: slot.slot)
        if slot.fresh { for j in 0..<BTree.words { (n.w + j).initialize(to: Atomic(0)) } }
        n.w[0].store(UInt64(count) | (leaf ? 0x100 : 0), ordering: .relaxed)
        n.w[1].store(0, ordering: .relaxed)
        return n
    }

    private func popFree() -> (slot: Int, fresh: Bool)? {
        freeRing.withLock { $0.take() }
    }

    /// Back to the free ring, poisoned.
    func free(_ n: Node) {
        n.w[0].store(0, ordering: .relaxed)
        n.w[1].store(BTree.freedMark, ordering: .relaxed)
        for j in 0..<(2 * Self.fanout) { n.w[2 + j].store(VMA.poison, ordering: .relaxed) }
        let slot = (UnsafeMutableRawPointer(bitPattern: n.raw)! - BTree.headerBytes - slab!) / BTree.stride
        freeRing.withLock { $0.putBack(slot) }
        allocated.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Loads `n`'s entries into the scratch arrays.
    func load(_ n: Node) {
        keys.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        for i in 0..<n.count {
            keys.append(n.key(i))
            slots.append(n.slot(i))
        }
    }

    /// The scratch entries as zero, one or two new nodes (two when over full), into `repl`.
    func build(leaf: Bool) {
        repl.removeAll(keepingCapacity: true)
        let n = keys.count
        if n == 0 { return }
        if n <= Self.fanout {
            repl.append(makeNode(leaf: leaf, 0..<n))
        } else {
            repl.append(makeNode(leaf: leaf, 0..<(n / 2)))
            repl.append(makeNode(leaf: leaf, (n / 2)..<n))
        }
    }

    // MARK: Operations

    func insert(_ v: VMAPtr, root: UnsafeMutablePointer<Atomic<UInt>>) {
        let key = v.start
        pathNodes.removeAll(keepingCapacity: true)
        pathIndex.removeAll(keepingCapacity: true)
        var raw = root.pointee.load(ordering: .relaxed)
        guard raw != 0 else {
            keys.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            keys.append(key)
            slots.append(UInt64(UInt(bitPattern: v)))
            let leaf = makeNode(leaf: true, 0..<1)
            root.pointee.store(leaf.raw, ordering: .releasing)
            entries += 1
            return
        }
        while true {
            let n = Node(raw)
            if n.isLeaf {
                var j = 0
                while j < n.count && n.key(j) <= key { j += 1 }
                pathNodes.append(n)
                pathIndex.append(j)
                break
            }
            let i = n.entry(for: key)
            pathNodes.append(n)
            pathIndex.append(i)
            raw = UInt(n.slot(i))
        }
        let leaf = pathNodes.last!
        load(leaf)
        keys.insert(key, at: pathIndex.last!)
        slots.insert(UInt64(UInt(bitPattern: v)), at: pathIndex.last!)
        build(leaf: true)
        entries += 1
        publish(root: root)
    }

    func erase(_ v: VMAPtr, root: UnsafeMutablePointer<Atomic<UInt>>) -> Bool {
        guard locate(v, key: v.start, root: root) else { return false }
        load(pathNodes.last!)
        keys.remove(at: pathIndex.last!)
        slots.remove(at: pathIndex.last!)
        build(leaf: true)
        entries -= 1
        publish(root: root)
        return true
    }

    func rekey(_ v: VMAPtr, from old: UInt64, root: UnsafeMutablePointer<Atomic<UInt>>) {
        guard locate(v, key: old, root: root) else { return }
        load(pathNodes.last!)
        keys[pathIndex.last!] = v.start
        build(leaf: true)
        publish(root: root)
    }

    /// Fills the path to the leaf entry holding `v`: by key first, then (for a
    /// tree a broken writer left inconsistent) by visiting every leaf.
    func locate(_ v: VMAPtr, key: UInt64, root: UnsafeMutablePointer<Atomic<UInt>>) -> Bool {
        let target = UInt64(UInt(bitPattern: v))
        pathNodes.removeAll(keepingCapacity: true)
        pathIndex.removeAll(keepingCapacity: true)
        var raw = root.pointee.load(ordering: .relaxed)
        while raw != 0 {
            let n = Node(raw)
            if n.isLeaf {
                for j in 0..<n.count where n.slot(j) == target {
                    pathNodes.append(n)
                    pathIndex.append(j)
                    return true
                }
                break
            }
            let i = n.entry(for: key)
            pathNodes.append(n)
            pathIndex.append(i)
            raw = UInt(n.slot(i))
        }
        pathNodes.removeAll(keepingCapacity: true)
        pathIndex.removeAll(keepingCapacity: true)
        let r = root.pointee.load(ordering: .relaxed)
        return r != 0 && search(Node(r), target)
    }

    private func search(_ n: Node, _ target: UInt64) -> Bool {
        for i in 0..<n.count {
            pathNodes.append(n)
            pathIndex.append(i)
            if n.isLeaf ? n.slot(i) == target : search(Node(UInt(n.slot(i))), target) { return true }
            pathNodes.removeLast()
            pathIndex.removeLast()
        }
        return false
    }

    /// `repl` replaces the last node of the path: copy every ancestor with the
    /// new children (merging a small child into a neighbour), publish the new
    /// root with one release store, then mark the old path dead and retire it.
    func publish(root: UnsafeMutablePointer<Atomic<UInt>>) {
        retired.removeAll(keepingCapacity: true)
        retired.append(pathNodes.last!)
        for level in stride(from: pathNodes.count - 2, through: 0, by: -1) {
            let parent = pathNodes[level]
            let idx = pathIndex[level]
            // At most two new children: held apart from `repl`, which `build` refills.
            let first = repl.first, second = repl.count > 1 ? repl[1] : nil
            load(parent)
            keys.remove(at: idx)
            slots.remove(at: idx)
            for (k, c) in [first, second].enumerated() {
                guard let c else { continue }
                keys.insert(c.key(0), at: idx + k)
                slots.insert(UInt64(c.raw), at: idx + k)
            }
            if first != nil && second == nil { mergeSmall(at: idx) }
            retired.append(parent)
            build(leaf: false)
        }
        var newRoot: Node? = nil
        if repl.count == 1 {
            newRoot = repl[0]
        } else if repl.count == 2 {
            keys.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            for c in repl {
                keys.append(c.key(0))
                slots.append(UInt64(c.raw))
            }
            newRoot = makeNode(leaf: false, 0..<2)
        }
        // An internal root with one child gives way to the child (new nodes only: never published).
        while let r = newRoot, !r.isLeaf, r.count == 1 {
            newRoot = Node(UInt(r.slot(0)))
            free(r)
        }
        root.pointee.store(newRoot?.raw ?? 0, ordering: .releasing)
        for n in retired {
            // releasing: a reader that sees the mark can also see the new root.
            n.w[1].store(BTree.deadMark, ordering: .releasing)
            if let reclaim {
                reclaim.retire(n.header, bytes: BTree.stride)
            } else {
                free(n)
            }
        }
    }

    /// The child at `idx` was just built; when it is under a quarter full and
    /// fits together with a neighbour, both become one new node.
    private func mergeSmall(at idx: Int) {
        let small = Node(UInt(slots[idx]))
        guard small.count < Self.fanout / 4, keys.count > 1 else { return }
        let j = idx + 1 < keys.count ? idx + 1 : idx - 1
        let neighbour = Node(UInt(slots[j]))
        guard small.count + neighbour.count <= Self.fanout else { return }
        let (left, right) = j > idx ? (small, neighbour) : (neighbour, small)
        let merged = makeNode(concatenating: left, right)
        let lo = min(idx, j)
        keys.remove(at: lo + 1)
        slots.remove(at: lo + 1)
        keys[lo] = merged.key(0)
        slots[lo] = UInt64(merged.raw)
        free(small)
        retired.append(neighbour)
    }
}
