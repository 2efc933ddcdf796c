/// A node of `VMAList`'s B+tree. Leaves hold VMAs with their starts and
/// ends; branches hold children with the span and the largest free range
/// inside each (the maple tree's gap tracking, `ma_gaps`).
struct VMAListNode {
    static let fanout = 32
    /// Below this a node other than the root borrows from or merges with a sibling.
    static let minFill = 8

    var count = 0
    var isLeaf = true
    var parent: VMAListNodePtr? = nil
    /// Leaves: the neighbouring leaves, for walking the VMAs in order. The pool's free list reuses `next`.
    var prev: VMAListNodePtr? = nil
    var next: VMAListNodePtr? = nil
    /// Leaves: each VMA's start and end. Branches: each child's lowest start and highest end.
    var lo = InlineArray<32, UInt64>(repeating: 0)
    var hi = InlineArray<32, UInt64>(repeating: 0)
    /// Branches: the largest free range between two VMAs inside each child.
    var gap = InlineArray<32, UInt64>(repeating: 0)
    /// Leaves: the VMAs. Branches: the children.
    var item = InlineArray<32, UnsafeMutableRawPointer?>(repeating: nil)
}

typealias VMAListNodePtr = UnsafeMutablePointer<VMAListNode>

extension UnsafeMutablePointer where Pointee == VMAListNode {
    @inline(__always) var count: Int { pointee.count }
    @inline(__always) var isLeaf: Bool { pointee.isLeaf }
    @inline(__always) func child(_ i: Int) -> VMAListNodePtr {
        pointee.item[i].unsafelyUnwrapped.assumingMemoryBound(to: VMAListNode.self)
    }
    @inline(__always) func vma(_ i: Int) -> VMAPtr { pointee.item[i].unsafelyUnwrapped.assumingMemoryBound(to: VMA.self) }

    /// Copies entry `i` to entry `j` of `to`.
    @inline(__always) func copyEntry(_ i: Int, to: VMAListNodePtr, _ j: Int) {
        to.pointee.lo[j] = pointee.lo[i]
        to.pointee.hi[j] = pointee.hi[i]
        to.pointee.gap[j] = pointee.gap[i]
        to.pointee.item[j] = pointee.item[i]
    }

    /// Moves entries `i...` up by one, making room at `i`.
    func openSlot(_ i: Int) {
        var k = count
        while k > i { copyEntry(k - 1, to: self, k); k -= 1 }
        pointee.count += 1
    }

    /// Removes entry `i`, moving the ones after it down.
    func closeSlot(_ i: Int) {
        for k in i..<(count - 1) { copyEntry(k + 1, to: self, k) }
        pointee.count -= 1
        pointee.item[count] = nil
    }

    /// The entry of this node in its parent.
    func slotInParent() -> Int {
        let p = pointee.parent.unsafelyUnwrapped
        let me = UnsafeMutableRawPointer(self)
        for i in 0..<p.count where p.pointee.item[i] == me { return i }
        fatalError("VMA list: a node is missing from its parent")
    }

    /// The lowest start, highest end and largest free range inside this node.
    func span() -> (lo: UInt64, hi: UInt64, gap: UInt64) {
        let c = count
        guard c > 0 else { return (UInt64.max, 0, 0) }
        let leaf = isLeaf
        var hi = pointee.hi[0]
        var gap = leaf ? 0 : pointee.gap[0]
        for j in 1..<c {
            let lo = pointee.lo[j]
            if lo > hi { gap = Swift.max(gap, lo - hi) }
            hi = Swift.max(hi, pointee.hi[j])
            if !leaf { gap = Swift.max(gap, pointee.gap[j]) }
        }
        return (pointee.lo[0], hi, gap)
    }

    /// Writes `child`'s summary into entry `i`.
    func summarize(_ i: Int) {
        let s = child(i).span()
        pointee.lo[i] = s.lo
        pointee.hi[i] = s.hi
        pointee.gap[i] = s.gap
    }
}

/// The list's nodes: chunks from `NodeMemory` (so `--memory` places them),
/// taken as the list grows and kept for reuse.
struct VMAListNodePool {
    static let nodesPerChunk = 64
    static var chunkBytes: Int { 64 + nodesPerChunk * MemoryLayout<VMAListNode>.stride }

    let memory: MemoryPolicy
    var free: VMAListNodePtr? = nil
    /// The newest chunk; each chunk's first word points to the one before.
    var chunks: UnsafeMutableRawPointer? = nil
    var chunkCount = 0

    init(memory: MemoryPolicy) { self.memory = memory }

    mutating func take(leaf: Bool) -> VMAListNodePtr {
        if free == nil { grow() }
        let n = free.unsafelyUnwrapped
        free = n.pointee.next
        n.initialize(to: VMAListNode())
        n.pointee.isLeaf = leaf
        return n
    }

    mutating func give(_ n: VMAListNodePtr) {
        n.pointee.next = free
        free = n
    }

    private mutating func grow() {
        let raw = NodeMemory.allocate(bytes: Self.chunkBytes, policy: memory)
        raw.storeBytes(of: chunks, as: UnsafeMutableRawPointer?.self)
        chunks = raw
        chunkCount += 1
        let nodes = (raw + 64).bindMemory(to: VMAListNode.self, capacity: Self.nodesPerChunk)
        for i in 0..<Self.nodesPerChunk {
            nodes[i].next = nil
            give(nodes + i)
        }
    }

    /// Every chunk: its memory and size.
    var regions: [(UnsafeRawPointer, Int)] {
        var out: [(UnsafeRawPointer, Int)] = []
        var c = chunks
        while let raw = c {
            out.append((UnsafeRawPointer(raw), Self.chunkBytes))
            c = raw.load(as: UnsafeMutableRawPointer?.self)
        }
        return out
    }

    mutating func destroy() {
        for (p, n) in regions { NodeMemory.free(UnsafeMutableRawPointer(mutating: p), bytes: n, policy: memory) }
        chunks = nil
        free = nil
    }
}
