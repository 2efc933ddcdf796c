// The lock, refcount and seqcount loops, shaped like their Swift twins.
#include <sched.h>
#include "CBenchLoops.h"
#include "kernel_rwsem.h"

#define LOOP(body)                                                   \
    uint64_t n = 0;                                                  \
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {               \
        for (int i = 0; i < VMS_BENCH_BATCH; i++) { body; }          \
        n += VMS_BENCH_BATCH;                                        \
    }                                                                \
    return n;

uint64_t vms_c_rwlock_read(const int *stop, pthread_rwlock_t *lock) {
    LOOP(pthread_rwlock_rdlock(lock); pthread_rwlock_unlock(lock))
}

uint64_t vms_c_rwlock_write(const int *stop, pthread_rwlock_t *lock) {
    LOOP(pthread_rwlock_wrlock(lock); pthread_rwlock_unlock(lock))
}

uint64_t vms_c_rwsem_read(const int *stop, struct vms_rwsem *sem) {
    LOOP(vms_rwsem_down_read(sem); vms_rwsem_up_read(sem))
}

uint64_t vms_c_rwsem_write(const int *stop, struct vms_rwsem *sem) {
    LOOP(vms_rwsem_down_write(sem); vms_rwsem_up_write(sem))
}

static inline void spin_lock(uint32_t *word) {
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    for (unsigned spins = 0;;) {
        while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0) {
            if ((++spins & 127) == 0) sched_yield(); else __builtin_ia32_pause();
        }
        expected = 0;
        if (__atomic_compare_exchange_n(word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    }
}

static inline void spin_unlock(uint32_t *word) { __atomic_store_n(word, 0, __ATOMIC_RELEASE); }

uint64_t vms_c_spinlock(const int *stop, uint32_t *word) {
    LOOP(spin_lock(word); spin_unlock(word))
}

#define REFCOUNT_SATURATED 0xC0000000u

static inline void ref_get(uint32_t *count) {
    uint32_t old = __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
    if (__builtin_expect(old >= REFCOUNT_SATURATED, 0)) __atomic_store_n(count, REFCOUNT_SATURATED, __ATOMIC_RELAXED);
}

static inline int ref_put(uint32_t *count) {
    uint32_t old = __atomic_fetch_sub(count, 1, __ATOMIC_RELEASE);
    if (old == 1) {
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        return 1;
    }
    if (__builtin_expect(old == 0 || old >= REFCOUNT_SATURATED, 0)) __atomic_store_n(count, REFCOUNT_SATURATED, __ATOMIC_RELAXED);
    return 0;
}

uint64_t vms_c_refcount(const int *stop, uint32_t *count) {
    LOOP(ref_get(count); ref_put(count))
}

uint64_t vms_c_seqcount_read(const int *stop, const uint32_t *seq, const uint64_t *data) {
    uint64_t n = 0;
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < VMS_BENCH_BATCH; i++) {
            uint32_t s;
            uint64_t a, b;
            do {
                while ((s = __atomic_load_n(seq, __ATOMIC_ACQUIRE)) & 1) __builtin_ia32_pause();
                a = __atomic_load_n(&data[0], __ATOMIC_RELAXED);
                b = __atomic_load_n(&data[1], __ATOMIC_RELAXED);
                __atomic_thread_fence(__ATOMIC_ACQUIRE);
            } while (__atomic_load_n(seq, __ATOMIC_RELAXED) != s);
            __asm__ __volatile__("" : : "r"(a), "r"(b) : "memory");
        }
        n += VMS_BENCH_BATCH;
    }
    return n;
}

uint64_t vms_c_seqlock_write(const int *stop, uint32_t *lock, uint32_t *seq, uint64_t *data) {
    uint64_t v = 0;
    LOOP(
        spin_lock(lock);
        __atomic_fetch_add(seq, 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        v++;
        __atomic_store_n(&data[0], v, __ATOMIC_RELAXED);
        __atomic_store_n(&data[1], v, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_fetch_add(seq, 1, __ATOMIC_RELAXED);
        spin_unlock(lock))
}
