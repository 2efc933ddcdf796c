import CSupport
import Glibc
import Synchronization

/// A test-and-test-and-set spinlock, the model of the kernel's `spinlock_t`
/// (page-table locks). Lives in manually managed memory; never moved.
public struct SpinLock: ~Copyable {
    private let word = Atomic<UInt32>(0)

    public init() {}

    @inline(__always)
    public func tryLock() -> Bool {
        // acquiring: everything the previous holder wrote before unlock is visible.
        word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
    }

    @inline(__always)
    public func lock() {
        if tryLock() { return }
        lockSlow()
    }

    @inline(never)
    private func lockSlow() {
        var spins = 0
        while true {
            // Spin on a plain load so the line stays shared until it is free.
            while word.load(ordering: .relaxed) != 0 {
                spins += 1
                // Two cores and oversubscribed runs: a holder may be preempted, so yield now and then.
                if spins & 127 == 0 { sched_yield() } else { vms_cpu_relax() }
            }
            if tryLock() { return }
        }
    }

    @inline(__always)
    public func unlock() {
        // releasing: publishes the critical section's stores to the next holder.
        word.store(0, ordering: .releasing)
    }

    public var isLocked: Bool { word.load(ordering: .relaxed) != 0 }
}
