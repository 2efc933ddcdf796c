import Glibc
import Synchronization

/// Sleepable RCU, written here because liburcu has none: the classic
/// algorithm of Linux 3.x/4.x `kernel/rcu/srcu.c`, with reader slots per
/// thread instead of per CPU (user threads migrate).
///
/// Each slot counts read-lock and read-unlock operations for the two
/// indexes. A reader increments its lock count for the current index, a full
/// barrier (B) orders that before the section's loads; unlock has a full
/// barrier (C) and then increments the unlock count of the same index. A
/// grace period waits for the inactive index to drain (readers that picked
/// up the index before the previous flip), flips the index, and waits for the
/// old one to drain. "Drained" means the sum of unlocks, read first, equals
/// the sum of locks, read after a barrier (A); a second scan of the locks
/// must agree. The counts are 64-bit and only grow, so they cannot wrap.
///
/// `call(_:_:)` queues callbacks to a grace-period worker thread, which
/// waits one grace period per batch; `barrier()` waits for every callback
/// queued before it.
public final class SRCU: @unchecked Sendable {
    public static let maxReaders = 512
    /// Two cache lines per slot: readers never share a line.
    static let slotBytes = 128
    /// Per slot: lock[0], lock[1], unlock[0], unlock[1], in-use.
    static let countersPerSlot = 5

    let completed: UnsafeMutablePointer<Atomic<UInt64>>
    let slots: UnsafeMutableRawPointer
    private let gpLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let grace = Atomic<UInt64>(0)

    private let queue = Condition()
    private var callbacks: [(UnsafeMutableRawPointer, @convention(c) (UnsafeMutableRawPointer?) -> Void)] = []
    private var queued: UInt64 = 0
    private var invoked: UInt64 = 0
    private var stopping = false
    private var worker: OSThread?
    /// Run callbacks when they are queued, before any grace period (busted twin only).
    let callbacksBeforeGracePeriod: Bool
    /// The write-side delay points around the flip (set by the strategy before any reader starts).
    public var delays: WriteDelays?

    public init(callbacksBeforeGracePeriod: Bool = false) {
        self.callbacksBeforeGracePeriod = callbacksBeforeGracePeriod
        completed = .allocate(capacity: 1)
        completed.initialize(to: Atomic(0))
        slots = .allocate(byteCount: Self.maxReaders * Self.slotBytes, alignment: 64)
        for i in 0..<Self.maxReaders {
            let c = (slots + i * Self.slotBytes).bindMemory(to: Atomic<UInt64>.self, capacity: Self.countersPerSlot)
            for j in 0..<Self.countersPerSlot { (c + j).initialize(to: Atomic(0)) }
        }
        pthread_mutex_init(gpLock, nil)
    }

    deinit {
        shutdown()
        pthread_mutex_destroy(gpLock)
        gpLock.deallocate()
        completed.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    func counters(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (slots + slot * Self.slotBytes).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    /// Claims a reader slot for the calling thread; nil when all are taken.
    public func registerReader() -> SRCUReader? {
        for i in 0..<Self.maxReaders {
            if counters(i)[4].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return SRCUReader(completed: completed, counters: counters(i), slot: i)
            }
        }
        return nil
    }

    /// Gives the slot back. Its counts stay: they are balanced, and the sums only need that.
    public func unregister(_ r: SRCUReader) {
        counters(r.slot)[4].store(0, ordering: .releasing)
    }

    /// synchronize_srcu: waits for every read section that began before it.
    public func synchronize() {
        pthread_mutex_lock(gpLock)
        let c = completed.pointee.load(ordering: .relaxed)
        waitForReaders(index: Int((c &- 1) & 1))
        delays?.pass(.srcuBeforeFlip)
        flip()
        delays?.pass(.srcuAfterFlip)
        waitForReaders(index: Int(c & 1))
        grace.wrappingAdd(1, ordering: .relaxed)
        pthread_mutex_unlock(gpLock)
    }

    /// srcu_flip: new readers take the other index. Fully ordered against the scans around it.
    func flip() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        completed.pointee.wrappingAdd(1, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// wait_idx: spins, then sleeps, until `index` has no reader left.
    func waitForReaders(index: Int) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        var tries = 0
        while !drained(index) {
            tries += 1
            if tries < 64 { spinHint() } else { usleep(tries < 256 ? 10 : 100) }
        }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    func drained(_ index: Int) -> Bool {
        let unlocks = sum(2 + index)
        atomicMemoryFence(ordering: .sequentiallyConsistent)  // A
        let locks = sum(index)
        guard locks == unlocks else { return false }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return sum(index) == locks
    }

    private func sum(_ counter: Int) -> UInt64 {
        var total: UInt64 = 0
        for i in 0..<Self.maxReaders { total &+= counters(i)[counter].load(ordering: .relaxed) }
        return total
    }

    /// Grace periods completed so far.
    public var gracePeriods: UInt64 { grace.load(ordering: .relaxed) }

    /// call_srcu: `callback(head)` runs on the grace-period worker after a grace period.
    public func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        if callbacksBeforeGracePeriod {
            // Busted: the callback runs now, before any grace period.
            callback(head)
            queue.withLock {
                queued += 1
                invoked += 1
                queue.broadcast()
            }
            return
        }
        let queuedForWorker = queue.withLock { () -> Bool in
            if worker == nil { worker = try? OSThread.spawn(name: "srcu-gp") { [self] in runWorker() } }
            guard worker != nil else { return false }
            let wasEmpty = callbacks.isEmpty
            callbacks.append((head, callback))
            queued += 1
            // Wake the worker only for the first callback of a batch; the rest ride along.
            if wasEmpty { queue.broadcast() }
            return true
        }
        if !queuedForWorker {
            // No thread could be started for the worker: wait the grace period here.
            synchronize()
            callback(head)
            queue.withLock {
                queued += 1
                invoked += 1
                queue.broadcast()
            }
        }
    }

    /// srcu_barrier: waits until every callback queued before it has run.
    public func barrier() {
        queue.withLock {
            let target = queued
            while !queue.wait(until: { invoked >= target || stopping }) {}
        }
    }

    /// The worker waits this long after the first callback of a batch, so
    /// that one grace period serves many callbacks (the kernel's SRCU_INTERVAL).
    static let batchDelayMicros: UInt32 = 1000

    private func runWorker() {
        while true {
            queue.withLock { while !queue.wait(until: { !callbacks.isEmpty || stopping }) {} }
            usleep(Self.batchDelayMicros)
            let batch = queue.withLock { () -> [(UnsafeMutableRawPointer, @convention(c) (UnsafeMutableRawPointer?) -> Void)]? in
                while !queue.wait(until: { !callbacks.isEmpty || stopping }) {}
                if callbacks.isEmpty { return nil }
                defer { callbacks.removeAll(keepingCapacity: true) }
                return callbacks
            }
            guard let batch else { return }
            synchronize()
            for (h, cb) in batch { cb(h) }
            queue.withLock {
                invoked += UInt64(batch.count)
                queue.broadcast()
            }
        }
    }

    /// Runs the queued callbacks and stops the worker.
    public func shutdown() {
        let w: OSThread? = queue.withLock {
            stopping = true
            queue.broadcast()
            defer { worker = nil }
            return worker
        }
        w?.join()
    }
}

/// One thread's SRCU reader slot: the read side, free of locks and allocation.
public struct SRCUReader: @unchecked Sendable {
    let completed: UnsafeMutablePointer<Atomic<UInt64>>
    let counters: UnsafeMutablePointer<Atomic<UInt64>>
    let slot: Int

    /// srcu_read_lock: returns the index to pass to `unlock`.
    @inline(__always)
    public func lock() -> Int { enter(index()) }

    /// srcu_read_lock's first step: the index new readers take. A reader
    /// may stall here for as long as it likes; `synchronize` waits for the
    /// inactive index first so that one that stalled across a flip is caught.
    @inline(__always)
    public func index() -> Int { Int(completed.pointee.load(ordering: .relaxed) & 1) }

    /// Index flips so far (a delay point waits for one).
    public var flips: UInt64 { completed.pointee.load(ordering: .relaxed) }

    /// srcu_read_lock's second step: counts this reader on `idx`.
    @inline(__always)
    public func enter(_ idx: Int) -> Int {
        // Only this thread writes its slot: a plain increment, no locked instruction.
        counters[idx].store(counters[idx].load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)  // B
        return idx
    }

    /// srcu_read_unlock.
    @inline(__always)
    public func unlock(_ idx: Int) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)  // C
        counters[2 + idx].store(counters[2 + idx].load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }
}
