import CSupport
import Glibc

/// A sleeping reader-writer lock over pthread_rwlock, in manually managed
/// memory. Copies share the lock; call `destroy()` once.
///
/// `.preferWriters` is the model of the kernel's rwsem (`mmap_lock`, the
/// per-VMA lock): a waiting writer holds back new readers, so continuous
/// faulters cannot starve munmap. `.pthreadDefault` is glibc's default,
/// which prefers readers.
public struct RWSem: @unchecked Sendable {
    public enum Kind: String, Sendable { case preferWriters, pthreadDefault }

    @usableFromInline let lockPtr: UnsafeMutablePointer<pthread_rwlock_t>

    public init(_ kind: Kind = .preferWriters) {
        lockPtr = .allocate(capacity: 1)
        let rc = kind == .preferWriters ? vms_rwlock_init_prefer_writer(lockPtr) : pthread_rwlock_init(lockPtr, nil)
        if rc != 0 { fatalError("pthread_rwlock_init failed: \(rc)") }
    }

    @inlinable @inline(__always) public func readLock() { pthread_rwlock_rdlock(lockPtr) }
    @inlinable @inline(__always) public func readUnlock() { pthread_rwlock_unlock(lockPtr) }
    @inlinable @inline(__always) public func writeLock() { pthread_rwlock_wrlock(lockPtr) }
    @inlinable @inline(__always) public func writeUnlock() { pthread_rwlock_unlock(lockPtr) }
    @inlinable @inline(__always) public func tryReadLock() -> Bool { pthread_rwlock_tryrdlock(lockPtr) == 0 }
    @inlinable @inline(__always) public func tryWriteLock() -> Bool { pthread_rwlock_trywrlock(lockPtr) == 0 }

    public func destroy() {
        pthread_rwlock_destroy(lockPtr)
        lockPtr.deallocate()
    }
}
