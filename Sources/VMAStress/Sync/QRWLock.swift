import Glibc
import Synchronization

/// A spinning queued reader-writer lock: the kernel's `rwlock_t` on x86
/// (`kernel/locking/qrwlock.c`, Waiman Long). One word counts readers (in
/// units of `readerBias`) and holds the writer byte; contended lockers queue
/// on a spinlock, so a waiting writer holds back new readers.
///
/// User threads can be preempted while holding it, so every spin yields the
/// CPU now and then (the kernel would disable preemption instead).
public struct QRWLock: ~Copyable {
    static let writerLocked: UInt32 = 0x0FF
    static let writerWaiting: UInt32 = 0x100
    static let writerMask: UInt32 = 0x1FF
    static let readerBias: UInt32 = 1 << 9

    private let counts = Atomic<UInt32>(0)
    private let waitLock = SpinLock()

    public init() {}

    @inline(__always)
    public func readLock() {
        // acquiring: the section's loads come after the lock.
        let c = counts.wrappingAdd(Self.readerBias, ordering: .acquiring).newValue
        if c & Self.writerMask != 0 { readLockSlow() }
    }

    @inline(never)
    private func readLockSlow() {
        counts.wrappingSubtract(Self.readerBias, ordering: .relaxed)
        waitLock.lock()
        counts.wrappingAdd(Self.readerBias, ordering: .relaxed)
        spin { counts.load(ordering: .acquiring) & Self.writerLocked == 0 }
        waitLock.unlock()
    }

    @inline(__always)
    public func readUnlock() {
        // releasing: the section's loads complete before a writer can see zero readers.
        counts.wrappingSubtract(Self.readerBias, ordering: .releasing)
    }

    @inline(__always)
    public func tryReadLock() -> Bool {
        var c = counts.load(ordering: .relaxed)
        while c & Self.writerMask == 0 {
            let (done, seen) = counts.compareExchange(expected: c, desired: c + Self.readerBias, ordering: .acquiring)
            if done { return true }
            c = seen
        }
        return false
    }

    @inline(__always)
    public func writeLock() {
        if counts.compareExchange(expected: 0, desired: Self.writerLocked, ordering: .acquiring).exchanged { return }
        writeLockSlow()
    }

    @inline(never)
    private func writeLockSlow() {
        waitLock.lock()
        defer { waitLock.unlock() }
        if counts.compareExchange(expected: 0, desired: Self.writerLocked, ordering: .acquiring).exchanged { return }
        // Tell readers a writer is waiting: new readers queue behind it.
        counts.bitwiseOr(Self.writerWaiting, ordering: .relaxed)
        spin {
            counts.compareExchange(expected: Self.writerWaiting, desired: Self.writerLocked, ordering: .acquiring).exchanged
        }
    }

    @inline(__always)
    public func tryWriteLock() -> Bool {
        counts.compareExchange(expected: 0, desired: Self.writerLocked, ordering: .acquiring).exchanged
    }

    @inline(__always)
    public func writeUnlock() {
        // releasing: the section's stores are visible before the lock is free.
        counts.wrappingSubtract(Self.writerLocked, ordering: .releasing)
    }

    @inline(__always)
    private func spin(until done: () -> Bool) {
        var n = 0
        while !done() {
            n += 1
            if n & 127 == 0 { sched_yield() } else { spinHint() }
        }
    }
}

/// A seqlock (`seqlock_t`): a sequence count whose writers are serialised by a spinlock.
public struct SeqLock: ~Copyable {
    public let seq = SeqCount()
    private let lock = SpinLock()

    public init() {}

    @inline(__always) public func writeLock() {
        lock.lock()
        seq.writeBegin()
    }

    @inline(__always) public func writeUnlock() {
        seq.writeEnd()
        lock.unlock()
    }

    @inline(__always) public func readBegin() -> UInt32 { seq.readBegin() }
    @inline(__always) public func readRetry(_ s: UInt32) -> Bool { seq.readRetry(s) }
}
