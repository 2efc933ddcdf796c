import CSupport

/// The kernel's rw_semaphore, as mmap_lock and the 6.4 per-VMA lock are: the C model in
/// CShims/CSupport/kernel_rwsem.c (count word with waiter and handoff bits, reader lock
/// stealing, writer optimistic spinning on the owner, a FIFO of futex sleepers, the handoff
/// after 4 ms). Fast paths inline. Copies share the lock; call `destroy()` once.
public struct RWSem: @unchecked Sendable {
    @usableFromInline let sem: UnsafeMutablePointer<vms_rwsem>

    public init() { sem = vms_rwsem_create() }

    @inlinable @inline(__always) public func readLock() { vms_rwsem_down_read(sem) }
    @inlinable @inline(__always) public func readUnlock() { vms_rwsem_up_read(sem) }
    @inlinable @inline(__always) public func writeLock() { vms_rwsem_down_write(sem) }
    @inlinable @inline(__always) public func writeUnlock() { vms_rwsem_up_write(sem) }
    @inlinable @inline(__always) public func tryReadLock() -> Bool { vms_rwsem_down_read_trylock(sem) }
    @inlinable @inline(__always) public func tryWriteLock() -> Bool { vms_rwsem_down_write_trylock(sem) }

    /// How often each slow path ran, like the kernel's rwsem lockevents.
    public struct Events: Sendable, Equatable {
        public var readSlow, readSteal, readSleep, writeSpinTaken, writeSleep, handoffs: UInt64
    }

    public var events: Events {
        var out = [UInt64](repeating: 0, count: 6)
        out.withUnsafeMutableBufferPointer { vms_rwsem_events(sem, $0.baseAddress) }
        return Events(readSlow: out[0], readSteal: out[1], readSleep: out[2],
                      writeSpinTaken: out[3], writeSleep: out[4], handoffs: out[5])
    }

    public func destroy() { vms_rwsem_destroy(sem) }
}
