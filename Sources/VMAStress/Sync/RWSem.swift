import CSupport
import Glibc

/// A sleeping reader-writer semaphore: the model of `mmap_lock`.
///
/// A handle to a writer-preferring pthread rwlock in manually managed memory
/// (a waiting writer holds back new readers, as the kernel's rwsem does, so
/// continuous faulters cannot starve munmap). Copies share the lock; call
/// `destroy()` once.
public struct RWSem: @unchecked Sendable {
    @usableFromInline let lockPtr: UnsafeMutablePointer<pthread_rwlock_t>

    public init() {
        lockPtr = .allocate(capacity: 1)
        let rc = vms_rwlock_init_prefer_writer(lockPtr)
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
