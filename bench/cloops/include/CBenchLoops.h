// The benchmark loops in C, for `vmastress bench primitives` to run beside
// the same loops in Swift, in the same process and the same run.
//
// Every loop runs batches of 1024 operations until *stop (read relaxed)
// turns non-zero, and returns how many operations it did.
#ifndef VMS_CBENCH_LOOPS_H
#define VMS_CBENCH_LOOPS_H

#include <pthread.h>
#include <stdint.h>

#define VMS_BENCH_BATCH 1024

// liburcu, one pair per flavor: read side (lock, dereference, unlock) and
// write side (synchronize_rcu). Readers register and unregister themselves.
uint64_t vms_c_rcu_memb_read(const int *stop, void *const *slot);
uint64_t vms_c_rcu_memb_sync(const int *stop);
uint64_t vms_c_rcu_qsbr_read(const int *stop, void *const *slot);
uint64_t vms_c_rcu_qsbr_sync(const int *stop);
uint64_t vms_c_rcu_mb_read(const int *stop, void *const *slot);
uint64_t vms_c_rcu_mb_sync(const int *stop);
uint64_t vms_c_rcu_signal_read(const int *stop, void *const *slot);
uint64_t vms_c_rcu_signal_sync(const int *stop);
uint64_t vms_c_rcu_bp_read(const int *stop, void *const *slot);
uint64_t vms_c_rcu_bp_sync(const int *stop);

// pthread rwlock: read lock + unlock, write lock + unlock.
uint64_t vms_c_rwlock_read(const int *stop, pthread_rwlock_t *lock);
uint64_t vms_c_rwlock_write(const int *stop, pthread_rwlock_t *lock);
// The kernel rwsem model (CSupport's kernel_rwsem.h): the same two loops.
struct vms_rwsem;
uint64_t vms_c_rwsem_read(const int *stop, struct vms_rwsem *sem);
uint64_t vms_c_rwsem_write(const int *stop, struct vms_rwsem *sem);

// A test-and-test-and-set spinlock on a 32-bit word, as SpinLock.swift.
uint64_t vms_c_spinlock(const int *stop, uint32_t *word);

// A saturating refcount get then put (one RMW each, checked after), as RefCount.swift.
uint64_t vms_c_refcount(const int *stop, uint32_t *count);

// seqcount: read begin + two loads + retry; write begin + two stores + end
// (the write side under the spinlock, as a seqlock).
uint64_t vms_c_seqcount_read(const int *stop, const uint32_t *seq, const uint64_t *data);
uint64_t vms_c_seqlock_write(const int *stop, uint32_t *lock, uint32_t *seq, uint64_t *data);

#endif
