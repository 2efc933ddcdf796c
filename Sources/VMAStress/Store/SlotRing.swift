/// Which slot of a fixed slab to hand out next: never-used slots first, in
/// order (their memory is touched only then, so a slab sized for the worst
/// case costs what is live), then freed slots in the order they were freed
/// (FIFO: the free ring is the quarantine). A freed slot is reused once
/// `quarantine` slots freed after it wait behind it, or when no fresh slot
/// is left. Not synchronised: the owner holds its lock around every call.
struct SlotRing: ~Copyable {
    let capacity: Int
    let quarantine: Int
    let ring: UnsafeMutablePointer<Int32>
    var head = 0
    var queued = 0
    /// Slots below this have been handed out at least once.
    var fresh = 0

    init(capacity: Int, quarantine: Int) {
        self.capacity = capacity
        self.quarantine = quarantine
        ring = .allocate(capacity: max(capacity, 1))
    }

    var available: Int { queued + capacity - fresh }

    /// The next slot and whether its memory was never used; nil when every slot is taken.
    /// `reuseFirst`: a freed slot before a fresh one (a type-safe cache's LIFO reuse).
    mutating func take(reuseFirst: Bool = false) -> (slot: Int, fresh: Bool)? {
        if queued > 0 && (reuseFirst || queued > quarantine || fresh == capacity) {
            let s = Int(ring[head])
            head = (head + 1) % capacity
            queued -= 1
            return (s, false)
        }
        guard fresh < capacity else { return nil }
        fresh += 1
        return (fresh - 1, true)
    }

    /// Queues a freed slot behind every slot freed before it.
    mutating func putBack(_ slot: Int) {
        ring[(head + queued) % capacity] = Int32(slot)
        queued += 1
    }

    /// Queues a freed slot to be handed out next.
    mutating func putFront(_ slot: Int) {
        head = (head + capacity - 1) % capacity
        ring[head] = Int32(slot)
        queued += 1
    }

    deinit { ring.deallocate() }
}
