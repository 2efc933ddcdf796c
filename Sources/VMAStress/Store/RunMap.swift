/// A state byte for every page of a range, kept as maximal runs of one state
/// (adjacent runs always differ) in a treap keyed by the run's first page.
/// Each node also holds the longest run of state 0 (`free`) in its subtree,
/// so a first-fit search descends once. Every call costs O(log n) plus the
/// runs it touches, where n is the number of runs, not of pages. The kernel
/// backend's books (`KernelBooks`) keep its reservation in one. The
/// byte-per-page array it replaced scanned most of 200,000 bytes per mmap at
/// 30,000 VMAs, where the mutator ran at a fifth of its rate at 256.
///
/// Nodes live in one manually managed array and name each other by index;
/// freed nodes are chained through `left`. Not thread-safe.
struct RunMap: ~Copyable {
    struct Node {
        var start: UInt64
        var end: UInt64
        /// The longest run of state `free` in this subtree (0 if none).
        var maxFree: UInt64
        var left: Int32
        var right: Int32
        var priority: UInt32
        var value: UInt8
    }

    static let none: Int32 = -1
    /// The state first fits look for.
    static let free: UInt8 = 0

    private var nodes: UnsafeMutablePointer<Node>
    private var capacity: Int32
    private var used: Int32 = 0
    private var freeList: Int32 = none
    private var root: Int32 = none
    private var seed: UInt32 = 0x9E37_79B9
    /// The runs an `update` takes out and puts back, kept to reuse their storage.
    private var scratch: [(PageRange, UInt8)] = []
    let pages: UInt64

    init(pages: UInt64) {
        self.pages = pages
        capacity = 64
        nodes = .allocate(capacity: Int(capacity))
        if pages > 0 { root = make(PageRange(0, pages), Self.free) }
    }

    deinit { nodes.deallocate() }

    // MARK: Queries

    /// The state of `page` (`free` past the end).
    func value(at page: UInt64) -> UInt8 {
        var t = root
        while t != Self.none {
            let n = nodes[Int(t)]
            if page < n.start { t = n.left } else if page >= n.end { t = n.right } else { return n.value }
        }
        return Self.free
    }

    /// The run holding `page`, whole, and its state.
    func run(containing page: UInt64) -> (PageRange, UInt8)? {
        var t = root
        while t != Self.none {
            let n = nodes[Int(t)]
            if page < n.start { t = n.left } else if page >= n.end { t = n.right } else { return (PageRange(n.start, n.end), n.value) }
        }
        return nil
    }

    /// Calls `body` with each run overlapping `r`, clipped to it, in address order.
    func forEachRun(in r: PageRange, _ body: (PageRange, UInt8) -> Void) {
        visit(root, r, body)
    }

    private func visit(_ t: Int32, _ r: PageRange, _ body: (PageRange, UInt8) -> Void) {
        guard t != Self.none else { return }
        let n = nodes[Int(t)]
        if n.start > r.start { visit(n.left, r, body) }
        if n.start < r.end && n.end > r.start { body(PageRange(max(n.start, r.start), min(n.end, r.end)), n.value) }
        if n.end < r.end { visit(n.right, r, body) }
    }

    /// Whether every page of `r` (inside the reservation, not empty) has `state & mask == want`.
    func all(_ r: PageRange, mask: UInt8, want: UInt8) -> Bool {
        guard r.start < r.end, r.end <= pages else { return false }
        var ok = true
        forEachRun(in: r) { _, v in if v & mask != want { ok = false } }
        return ok
    }

    /// The first `count` pages of state `free` that start at or after `lo` and end at or before `hi`.
    func firstFree(count: UInt64, from lo: UInt64, below hi: UInt64) -> PageRange? {
        guard count > 0, lo < hi else { return nil }
        // The run holding lo may fit from lo itself; any other fit starts a run after lo.
        if let (run, v) = run(containing: lo), v == Self.free, lo + count <= run.end {
            return lo + count <= hi ? PageRange(start: lo, count: count) : nil
        }
        guard let start = leftmostFree(root, after: lo, count: count), start + count <= hi else { return nil }
        return PageRange(start: start, count: count)
    }

    /// The start of the leftmost free run of `count` pages or more starting after `lo`.
    private func leftmostFree(_ t: Int32, after lo: UInt64, count: UInt64) -> UInt64? {
        guard t != Self.none, nodes[Int(t)].maxFree >= count else { return nil }
        let n = nodes[Int(t)]
        if n.start <= lo { return leftmostFree(n.right, after: lo, count: count) }
        if let s = leftmostFree(n.left, after: lo, count: count) { return s }
        if n.value == Self.free && n.end - n.start >= count { return n.start }
        return leftmostFree(n.right, after: lo, count: count)
    }

    /// The longest path from the root, in nodes (a treap's is O(log n) whatever the order of calls).
    var depth: Int { height(root) }

    private func height(_ t: Int32) -> Int {
        t == Self.none ? 0 : 1 + max(height(nodes[Int(t)].left), height(nodes[Int(t)].right))
    }

    /// The number of runs.
    var runs: Int {
        var n = 0
        forEachRun(in: PageRange(0, pages)) { _, _ in n += 1 }
        return n
    }

    // MARK: Updates

    /// Sets every page of `r` to `value`.
    mutating func assign(_ r: PageRange, _ value: UInt8) { update(r) { _ in value } }

    /// Replaces the state of each run inside `r` with `change(state)`, then
    /// joins what became equal to its neighbours.
    mutating func update(_ r: PageRange, _ change: (UInt8) -> UInt8) {
        let r = PageRange(r.start, min(r.end, pages))
        guard r.start < r.end else { return }
        let (left, rest) = split(root, at: r.start)
        var (middle, right) = split(rest, at: r.end)
        scratch.removeAll(keepingCapacity: true)
        take(middle)
        middle = Self.none
        var runs: [(PageRange, UInt8)] = []
        swap(&runs, &scratch)
        defer { swap(&runs, &scratch) }
        // Coalesce within r, then with the run ending at r.start and the one starting at r.end.
        var l = left, rr = right
        var pending: (PageRange, UInt8)?
        if let (last, v) = maxRun(l), last.end == r.start, let first = runs.first, change(first.1) == v {
            l = removeMax(l)
            pending = (last, v)
        }
        for (range, old) in runs {
            let v = change(old)
            if let p = pending, p.1 == v { pending = (PageRange(p.0.start, range.end), v); continue }
            if let p = pending { middle = merge(middle, make(p.0, p.1)) }
            pending = (range, v)
        }
        if let p = pending, let (first, v) = minRun(rr), first.start == r.end, v == p.1 {
            rr = removeMin(rr)
            pending = (PageRange(p.0.start, first.end), v)
        }
        if let p = pending { middle = merge(middle, make(p.0, p.1)) }
        root = merge(merge(l, middle), rr)
    }

    /// Appends the runs of `t` to `scratch` in order and frees its nodes.
    private mutating func take(_ t: Int32) {
        guard t != Self.none else { return }
        let n = nodes[Int(t)]
        take(n.left)
        scratch.append((PageRange(n.start, n.end), n.value))
        take(n.right)
        release(t)
    }

    // MARK: The treap

    /// Splits `t` into the runs below `page` and the rest; a run spanning `page` becomes two.
    private mutating func split(_ t: Int32, at page: UInt64) -> (Int32, Int32) {
        guard t != Self.none else { return (Self.none, Self.none) }
        let start = nodes[Int(t)].start, end = nodes[Int(t)].end
        if end <= page {
            let (l, r) = split(nodes[Int(t)].right, at: page)
            nodes[Int(t)].right = l
            refresh(t)
            return (t, r)
        }
        if start >= page {
            let (l, r) = split(nodes[Int(t)].left, at: page)
            nodes[Int(t)].left = r
            refresh(t)
            return (l, t)
        }
        // The lower part keeps t and its left subtree; the upper part, a node of its own (at a fresh
        // priority: pieces that inherit one pile up equal priorities and the treap degenerates into a
        // list), is merged onto the front of t's right subtree.
        let upper = make(PageRange(page, end), nodes[Int(t)].value)
        let right = merge(upper, nodes[Int(t)].right)
        nodes[Int(t)].right = Self.none
        nodes[Int(t)].end = page
        refresh(t)
        return (t, right)
    }

    /// Every key of `a` is below every key of `b`.
    private mutating func merge(_ a: Int32, _ b: Int32) -> Int32 {
        guard a != Self.none else { return b }
        guard b != Self.none else { return a }
        if nodes[Int(a)].priority > nodes[Int(b)].priority {
            nodes[Int(a)].right = merge(nodes[Int(a)].right, b)
            refresh(a)
            return a
        }
        nodes[Int(b)].left = merge(a, nodes[Int(b)].left)
        refresh(b)
        return b
    }

    private func maxRun(_ t: Int32) -> (PageRange, UInt8)? {
        guard t != Self.none else { return nil }
        var t = t
        while nodes[Int(t)].right != Self.none { t = nodes[Int(t)].right }
        return (PageRange(nodes[Int(t)].start, nodes[Int(t)].end), nodes[Int(t)].value)
    }

    private func minRun(_ t: Int32) -> (PageRange, UInt8)? {
        guard t != Self.none else { return nil }
        var t = t
        while nodes[Int(t)].left != Self.none { t = nodes[Int(t)].left }
        return (PageRange(nodes[Int(t)].start, nodes[Int(t)].end), nodes[Int(t)].value)
    }

    private mutating func removeMax(_ t: Int32) -> Int32 {
        guard nodes[Int(t)].right != Self.none else {
            let l = nodes[Int(t)].left
            release(t)
            return l
        }
        nodes[Int(t)].right = removeMax(nodes[Int(t)].right)
        refresh(t)
        return t
    }

    private mutating func removeMin(_ t: Int32) -> Int32 {
        guard nodes[Int(t)].left != Self.none else {
            let r = nodes[Int(t)].right
            release(t)
            return r
        }
        nodes[Int(t)].left = removeMin(nodes[Int(t)].left)
        refresh(t)
        return t
    }

    private mutating func refresh(_ t: Int32) {
        let n = nodes[Int(t)]
        var m = n.value == Self.free ? n.end - n.start : 0
        if n.left != Self.none { m = max(m, nodes[Int(n.left)].maxFree) }
        if n.right != Self.none { m = max(m, nodes[Int(n.right)].maxFree) }
        nodes[Int(t)].maxFree = m
    }

    private mutating func make(_ r: PageRange, _ value: UInt8) -> Int32 {
        if freeList == Self.none && used == capacity { grow() }
        let t: Int32
        if freeList != Self.none {
            t = freeList
            freeList = nodes[Int(t)].left
        } else {
            t = used
            used += 1
        }
        (nodes + Int(t)).initialize(to: Node(start: r.start, end: r.end, maxFree: value == Self.free ? r.count : 0,
                                             left: Self.none, right: Self.none, priority: nextPriority(), value: value))
        return t
    }

    /// xorshift32: treap priorities need only be independent of the keys.
    private mutating func nextPriority() -> UInt32 {
        seed ^= seed << 13
        seed ^= seed >> 17
        seed ^= seed << 5
        return seed
    }

    private mutating func release(_ t: Int32) {
        nodes[Int(t)].left = freeList
        freeList = t
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Node>.allocate(capacity: Int(capacity) * 2)
        bigger.moveInitialize(from: nodes, count: Int(used))
        nodes.deallocate()
        nodes = bigger
        capacity *= 2
    }
}
