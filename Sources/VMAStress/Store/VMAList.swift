/// The ordered list of VMAs (the role of the kernel's `vm_next` list): a
/// sorted array of record pointers in manually managed memory,
/// binary-searched by start. Writers navigate it; the checker compares the
/// lookup tree (`VMATree`) with it.
///
/// Not safe for lockless readers: callers hold the mm lock (readers share it,
/// writers own it). Faults look VMAs up in the `VMATree` instead.
public struct VMAList: @unchecked Sendable {
    public let capacity: Int
    let memory: MemoryPolicy
    let slots: UnsafeMutablePointer<VMAPtr?>
    let countPtr: UnsafeMutablePointer<Int>

    public init(capacity: Int, memory: MemoryPolicy = .system) {
        self.capacity = capacity
        self.memory = memory
        slots = NodeMemory.allocate(bytes: capacity * MemoryLayout<VMAPtr?>.stride, policy: memory)
            .bindMemory(to: VMAPtr?.self, capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        countPtr = .allocate(capacity: 1)
        countPtr.initialize(to: 0)
    }

    public var count: Int { countPtr.pointee }

    @inline(__always)
    public subscript(i: Int) -> VMAPtr { slots[i]! }

    /// The position of the first VMA whose end is above `page` (the one
    /// covering `page`, or the next one after it); `count` when there is none.
    @inline(__always)
    public func firstEnding(after page: UInt64) -> Int {
        var lo = 0
        var hi = countPtr.pointee
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if slots[mid].unsafelyUnwrapped.end <= page { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// find_vma, then the bounds check: the VMA covering `page`, if any.
    @inline(__always)
    public func find(_ page: UInt64) -> VMAPtr? {
        let i = firstEnding(after: page)
        guard i < countPtr.pointee else { return nil }
        let v = slots[i].unsafelyUnwrapped
        return v.start <= page ? v : nil
    }

    /// Inserts by start. Returns false when full.
    public func insert(_ v: VMAPtr) -> Bool {
        let n = countPtr.pointee
        guard n < capacity else { return false }
        var i = firstEnding(after: v.start)
        // Equal ends can only come from a broken writer; keep the order by start anyway.
        while i < n && slots[i]!.start < v.start { i += 1 }
        (slots + i + 1).update(from: slots + i, count: n - i)
        slots[i] = v
        countPtr.pointee = n + 1
        return true
    }

    /// Removes `v`. Returns false when it is not in the index.
    public func erase(_ v: VMAPtr) -> Bool {
        let n = countPtr.pointee
        guard let i = position(of: v) else { return false }
        (slots + i).update(from: slots + i + 1, count: n - i - 1)
        slots[n - 1] = nil
        countPtr.pointee = n - 1
        return true
    }

    /// The slot holding exactly `v`: a binary search, then a scan for a broken tree's duplicates.
    public func position(of v: VMAPtr) -> Int? {
        let n = countPtr.pointee
        var i = firstEnding(after: v.start)
        while i < n {
            if slots[i] == v { return i }
            if slots[i]!.start > v.end { break }
            i += 1
        }
        return (0..<n).first { slots[$0] == v }
    }

    /// The VMAs in index order.
    public func forEach(_ body: (VMAPtr) -> Void) {
        for i in 0..<countPtr.pointee { body(slots[i]!) }
    }

    /// The slots' memory, for residency queries.
    public var region: (UnsafeRawPointer, Int) { (UnsafeRawPointer(slots), capacity * MemoryLayout<VMAPtr?>.stride) }

    public func destroy() {
        NodeMemory.free(UnsafeMutableRawPointer(slots), bytes: capacity * MemoryLayout<VMAPtr?>.stride, policy: memory)
        countPtr.deallocate()
    }
}
