import CSupport
import Glibc

/// A sleeping reader-writer lock over pthread_rwlock, in manually managed memory. Copies
/// share the lock; call `destroy()` once. The primitives bench and the exclusion stress run
/// it beside `RWSem`, the kernel's rwsem the strategies use.
///
/// `.preferWriters`: a waiting writer holds back new readers. `.pthreadDefault`: glibc's
/// default, which prefers readers.
public struct PthreadRWLock: @unchecked Sendable {
    public enum Kind: String, Sendable { case preferWriters, pthreadDefault }

    @usableFromInline let lockPtr: UnsafeMutablePointer<pthread_rwlock_t>

    public init(_ kind: Kind) {
        lockPtr = .allocate(capacity: 1)
        let rc = kind == .preferWriters ? vms_rwlock_init_prefer_writer(lockPtr) : pthread_rwlock_init(lockPtr, nil)
        if rc != 0 { fatalError("pthread_rwlock_init failed: \(rc)") }
    }

    @inlinable @inline(__always) public func readLock() { pthread_rwlock_rdlock(lockPtr) }
    @inlinable @inline(__always) public func readUnlock() { pthread_rwlock_unlock(lockPtr) }
    @inlinable @inline(__always) public func writeLock() { pthread_rwlock_wrlock(lockPtr) }
    @inlinable @inline(__always) public func writeUnlock() { pthread_rwlock_unlock(lockPtr) }

    public func destroy() {
        pthread_rwlock_destroy(lockPtr)
        lockPtr.deallocate()
    }
}
