// The kernel's rw_semaphore (kernel/locking/rwsem.c, the 6.1-6.18 design) in user space:
// the count word and its flag bits, reader lock stealing, writer optimistic spinning on the
// owner, a FIFO wait queue whose sleepers block on futexes, and the handoff after 4 ms.
// This is what mmap_lock is in the kernel, so the model's mmap-lock strategies wait the way
// the kernel's faults and mutations wait. The fast paths are inline; the slow paths are in
// kernel_rwsem.c.
#ifndef VMS_KERNEL_RWSEM_H
#define VMS_KERNEL_RWSEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

// count: bit 0 writer locked, bit 1 waiters present, bit 2 handoff, bits 8.. readers.
#define VMS_RWSEM_WRITER_LOCKED 1L
#define VMS_RWSEM_FLAG_WAITERS 2L
#define VMS_RWSEM_FLAG_HANDOFF 4L
#define VMS_RWSEM_READER_SHIFT 8
#define VMS_RWSEM_READER_BIAS (1L << VMS_RWSEM_READER_SHIFT)
#define VMS_RWSEM_READER_MASK (~(VMS_RWSEM_READER_BIAS - 1))
#define VMS_RWSEM_LOCK_MASK (VMS_RWSEM_WRITER_LOCKED | VMS_RWSEM_READER_MASK)
#define VMS_RWSEM_READ_FAILED_MASK (VMS_RWSEM_WRITER_LOCKED | VMS_RWSEM_FLAG_WAITERS | VMS_RWSEM_FLAG_HANDOFF)

// owner: the writing thread's token, or the last reader's token | READER_OWNED; NONSPINNABLE
// once a writer gave up spinning on readers (cleared when the readers drain).
#define VMS_RWSEM_READER_OWNED 1UL
#define VMS_RWSEM_NONSPINNABLE 2UL
#define VMS_RWSEM_OWNER_FLAGS 3UL

struct vms_rwsem_waiter;

typedef struct vms_rwsem {
    _Atomic long count;
    _Atomic uintptr_t owner;
    _Atomic int wait_lock;
    _Atomic int spinner;    // the osq: one optimistic spinner at a time
    struct vms_rwsem_waiter *first, *last;
    // How often each slow path ran (the kernel's lockevents), for the primitives bench.
    _Atomic uint64_t read_slow, read_steal, read_sleep, write_spin_taken, write_sleep, handoffs;
} vms_rwsem;

/// How long a writer spins on a running writer before it sleeps, in ns. The kernel spins while
/// the owner is on a CPU and nobody needs this one's CPU; user space cannot see either, so the
/// model bounds the spin instead (20 µs: longer than the model's write sections).
extern uint64_t vms_rwsem_owner_spin_ns;

/// A new unlocked rwsem on its own cache line; free it with vms_rwsem_destroy.
vms_rwsem *vms_rwsem_create(void);
void vms_rwsem_destroy(vms_rwsem *s);
/// The slow-path counters: read_slow, read_steal, read_sleep, write_spin_taken, write_sleep, handoffs.
void vms_rwsem_events(const vms_rwsem *s, uint64_t out[6]);
void vms_rwsem_down_read_slowpath(vms_rwsem *s, long count);
void vms_rwsem_down_write_slowpath(vms_rwsem *s);
void vms_rwsem_wake(vms_rwsem *s);

/// The calling thread's token is the address of this thread-local word (8-aligned, so the low
/// bits are free for the flags).
extern _Thread_local long vms_rwsem_self;

static inline uintptr_t vms_rwsem_me(void) { return (uintptr_t)&vms_rwsem_self; }

static inline void vms_rwsem_set_reader_owned(vms_rwsem *s, uintptr_t who) {
    uintptr_t keep = atomic_load_explicit(&s->owner, memory_order_relaxed) & VMS_RWSEM_NONSPINNABLE;
    atomic_store_explicit(&s->owner, who | VMS_RWSEM_READER_OWNED | keep, memory_order_relaxed);
}

static inline void vms_rwsem_down_read(vms_rwsem *s) {
    long c = atomic_fetch_add_explicit(&s->count, VMS_RWSEM_READER_BIAS, memory_order_acquire)
        + VMS_RWSEM_READER_BIAS;
    if (__builtin_expect((c & VMS_RWSEM_READ_FAILED_MASK) == 0, 1)) {
        vms_rwsem_set_reader_owned(s, vms_rwsem_me());
        return;
    }
    vms_rwsem_down_read_slowpath(s, c);
}

static inline bool vms_rwsem_down_read_trylock(vms_rwsem *s) {
    long c = atomic_load_explicit(&s->count, memory_order_relaxed);
    while ((c & VMS_RWSEM_READ_FAILED_MASK) == 0) {
        if (atomic_compare_exchange_weak_explicit(&s->count, &c, c + VMS_RWSEM_READER_BIAS,
                                                  memory_order_acquire, memory_order_relaxed)) {
            vms_rwsem_set_reader_owned(s, vms_rwsem_me());
            return true;
        }
    }
    return false;
}

static inline void vms_rwsem_up_read(vms_rwsem *s) {
    long c = atomic_fetch_sub_explicit(&s->count, VMS_RWSEM_READER_BIAS, memory_order_release)
        - VMS_RWSEM_READER_BIAS;
    // The last reader out with sleepers queued wakes them.
    if (__builtin_expect((c & (VMS_RWSEM_LOCK_MASK | VMS_RWSEM_FLAG_WAITERS)) == VMS_RWSEM_FLAG_WAITERS, 0)) {
        if (atomic_load_explicit(&s->owner, memory_order_relaxed) & VMS_RWSEM_NONSPINNABLE)
            atomic_fetch_and_explicit(&s->owner, ~VMS_RWSEM_NONSPINNABLE, memory_order_relaxed);
        vms_rwsem_wake(s);
    }
}

static inline bool vms_rwsem_down_write_trylock(vms_rwsem *s) {
    long expected = 0;
    if (atomic_compare_exchange_strong_explicit(&s->count, &expected, VMS_RWSEM_WRITER_LOCKED,
                                                memory_order_acquire, memory_order_relaxed)) {
        atomic_store_explicit(&s->owner, vms_rwsem_me(), memory_order_relaxed);
        return true;
    }
    return false;
}

static inline void vms_rwsem_down_write(vms_rwsem *s) {
    if (__builtin_expect(!vms_rwsem_down_write_trylock(s), 0)) vms_rwsem_down_write_slowpath(s);
}

static inline void vms_rwsem_up_write(vms_rwsem *s) {
    atomic_store_explicit(&s->owner, 0, memory_order_relaxed);
    long c = atomic_fetch_sub_explicit(&s->count, VMS_RWSEM_WRITER_LOCKED, memory_order_release);
    if (__builtin_expect(c & VMS_RWSEM_FLAG_WAITERS, 0)) vms_rwsem_wake(s);
}

#endif
