// The slow paths of the kernel rwsem model (kernel_rwsem.h), step for step after
// kernel/locking/rwsem.c of 6.1-6.18: rwsem_down_read_slowpath, rwsem_down_write_slowpath,
// rwsem_optimistic_spin, rwsem_mark_wake, rwsem_try_write_lock. What user space cannot do
// the kernel's way is said where it happens: owner_on_cpu() and need_resched() become a
// bounded spin, schedule() becomes a futex wait, the osq an exchange on one word, jiffies
// CLOCK_MONOTONIC.
#include "CSupport.h"

#include <linux/futex.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

_Thread_local long vms_rwsem_self;
uint64_t vms_rwsem_owner_spin_ns = 20000;

enum { WAITING_FOR_WRITE, WAITING_FOR_READ };
enum { WAKE_ANY, WAKE_READERS, WAKE_READ_OWNED };
enum { OWNER_NULL = 1, OWNER_WRITER = 2, OWNER_READER = 4, OWNER_NONSPINNABLE = 8 };
#define OWNER_SPINNABLE (OWNER_NULL | OWNER_WRITER | OWNER_READER)
#define WAIT_TIMEOUT_NS 4000000ULL   // RWSEM_WAIT_TIMEOUT: 4 ms (one jiffy at HZ=250)
#define MAX_READERS_WAKEUP 256

// A sleeper lives on its own stack until it is granted the lock (a reader) or takes it (a
// writer). `task` is the kernel's waiter->task: non-zero while the reader waits, cleared
// with release by whoever grants it. A writer sleeps on `wakeups`, bumped under wait_lock.
struct vms_rwsem_waiter {
    struct vms_rwsem_waiter *next, *prev;
    _Atomic uint32_t task;
    _Atomic uint32_t wakeups;
    int type;
    uintptr_t token;
    uint64_t timeout;
    bool handoff_set;
};

// wake_q: the futex words to wake once wait_lock is dropped.
struct wake_q { int n; _Atomic uint32_t *word[MAX_READERS_WAKEUP + 1]; };

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

// Waking a word whose waiter has already left (its stack reused) is harmless: every wait
// here re-checks its condition in a loop.
static void wake_up_q(struct wake_q *q) {
    for (int i = 0; i < q->n; i++) syscall(SYS_futex, q->word[i], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    q->n = 0;
}

// raw_spin_lock: a test-and-test-and-set lock; a holder preempted in user space would make
// the others spin out their slice, so after a while they yield.
static void wait_lock(vms_rwsem *s) {
    for (int spins = 0;; spins++) {
        if (atomic_load_explicit(&s->wait_lock, memory_order_relaxed) == 0
            && atomic_exchange_explicit(&s->wait_lock, 1, memory_order_acquire) == 0) return;
        if (spins > 1000) { sched_yield(); spins = 0; } else vms_cpu_relax();
    }
}

static void wait_unlock(vms_rwsem *s) { atomic_store_explicit(&s->wait_lock, 0, memory_order_release); }

vms_rwsem *vms_rwsem_create(void) {
    size_t size = (sizeof(vms_rwsem) + 63) & ~(size_t)63;
    vms_rwsem *s = aligned_alloc(64, size);
    if (!s) abort();
    atomic_init(&s->count, 0);
    atomic_init(&s->owner, 0);
    atomic_init(&s->wait_lock, 0);
    atomic_init(&s->spinner, 0);
    s->first = s->last = NULL;
    atomic_init(&s->read_slow, 0);
    atomic_init(&s->read_steal, 0);
    atomic_init(&s->read_sleep, 0);
    atomic_init(&s->write_spin_taken, 0);
    atomic_init(&s->write_sleep, 0);
    atomic_init(&s->handoffs, 0);
    return s;
}

void vms_rwsem_destroy(vms_rwsem *s) { free(s); }

void vms_rwsem_events(const vms_rwsem *s, uint64_t out[6]) {
    _Atomic uint64_t *const all[6] = {
        (_Atomic uint64_t *)&s->read_slow, (_Atomic uint64_t *)&s->read_steal, (_Atomic uint64_t *)&s->read_sleep,
        (_Atomic uint64_t *)&s->write_spin_taken, (_Atomic uint64_t *)&s->write_sleep, (_Atomic uint64_t *)&s->handoffs,
    };
    for (int i = 0; i < 6; i++) out[i] = atomic_load_explicit(all[i], memory_order_relaxed);
}

static void bump(_Atomic uint64_t *counter) { atomic_fetch_add_explicit(counter, 1, memory_order_relaxed); }

static void add_waiter(vms_rwsem *s, struct vms_rwsem_waiter *w) {
    w->next = NULL;
    w->prev = s->last;
    if (s->last) s->last->next = w; else s->first = w;
    s->last = w;
}

static void unlink_waiter(vms_rwsem *s, struct vms_rwsem_waiter *w) {
    if (w->prev) w->prev->next = w->next; else s->first = w->next;
    if (w->next) w->next->prev = w->prev; else s->last = w->prev;
}

// rwsem_mark_wake, with wait_lock held: a writer at the head is woken to try for the lock
// (WAKE_ANY only); otherwise every queued reader (up to MAX_READERS_WAKEUP, writers
// skipped) is granted the lock, its reader bias added for it before it wakes.
static void mark_wake(vms_rwsem *s, int wake_type, struct wake_q *q) {
    struct vms_rwsem_waiter *w = s->first;
    if (w->type == WAITING_FOR_WRITE) {
        if (wake_type == WAKE_ANY) {
            atomic_fetch_add_explicit(&w->wakeups, 1, memory_order_release);
            q->word[q->n++] = &w->wakeups;
        }
        return;
    }
    if (atomic_load_explicit(&s->count, memory_order_relaxed) < 0) return;
    long adjustment = 0;
    if (wake_type != WAKE_READ_OWNED) {
        // Grant the first reader before counting, so a writer that stole the lock is seen.
        adjustment = VMS_RWSEM_READER_BIAS;
        long old = atomic_fetch_add_explicit(&s->count, adjustment, memory_order_relaxed);
        if (old & VMS_RWSEM_WRITER_LOCKED) {
            if (vms_now_ns() > w->timeout) {
                if (!(old & VMS_RWSEM_FLAG_HANDOFF)) { adjustment -= VMS_RWSEM_FLAG_HANDOFF; bump(&s->handoffs); }
                w->handoff_set = true;
            }
            atomic_fetch_add_explicit(&s->count, -adjustment, memory_order_relaxed);
            return;
        }
        vms_rwsem_set_reader_owned(s, w->token);
    }
    struct vms_rwsem_waiter *granted = NULL, **tail = &granted;
    long woken = 0;
    for (struct vms_rwsem_waiter *it = s->first, *next; it; it = next) {
        next = it->next;
        if (it->type == WAITING_FOR_WRITE) continue;
        unlink_waiter(s, it);
        it->next = NULL;
        *tail = it;
        tail = &it->next;
        if (++woken >= MAX_READERS_WAKEUP) break;
    }
    adjustment = woken * VMS_RWSEM_READER_BIAS - adjustment;
    long old = atomic_load_explicit(&s->count, memory_order_relaxed);
    if (!s->first) {
        adjustment -= VMS_RWSEM_FLAG_WAITERS;
        if (old & VMS_RWSEM_FLAG_HANDOFF) adjustment -= VMS_RWSEM_FLAG_HANDOFF;
    } else if (woken && (old & VMS_RWSEM_FLAG_HANDOFF)) {
        adjustment -= VMS_RWSEM_FLAG_HANDOFF;
    }
    if (adjustment) atomic_fetch_add_explicit(&s->count, adjustment, memory_order_relaxed);
    for (struct vms_rwsem_waiter *it = granted, *next; it; it = next) {
        next = it->next;
        q->word[q->n++] = &it->task;
        // After this store the reader may return and its stack go away: touch `it` no more.
        atomic_store_explicit(&it->task, 0, memory_order_release);
    }
}

// rwsem_cond_wake_waiter: wake what can run now that the lock is not writer-owned.
static void cond_wake_waiter(vms_rwsem *s, long count, struct wake_q *q) {
    if (count & VMS_RWSEM_WRITER_LOCKED) return;
    int type = WAKE_READERS;
    if (!(count & VMS_RWSEM_READER_MASK)) {
        type = WAKE_ANY;
        atomic_fetch_and_explicit(&s->owner, ~VMS_RWSEM_NONSPINNABLE, memory_order_relaxed);
    }
    mark_wake(s, type, q);
}

void vms_rwsem_wake(vms_rwsem *s) {
    struct wake_q q = { .n = 0 };
    wait_lock(s);
    if (s->first) mark_wake(s, WAKE_ANY, &q);
    wait_unlock(s);
    wake_up_q(&q);
}

void vms_rwsem_down_read_slowpath(vms_rwsem *s, long count) {
    long adjustment = -VMS_RWSEM_READER_BIAS;
    long rcnt = count >> VMS_RWSEM_READER_SHIFT;
    struct wake_q q = { .n = 0 };
    bump(&s->read_slow);
    // Lock stealing, unless readers hold it already: a stream of readers must not starve a
    // sleeping writer.
    bool reader_owned = atomic_load_explicit(&s->owner, memory_order_relaxed) & VMS_RWSEM_READER_OWNED;
    if (!(reader_owned && rcnt > 1 && !(count & VMS_RWSEM_WRITER_LOCKED))
        && !(count & (VMS_RWSEM_WRITER_LOCKED | VMS_RWSEM_FLAG_HANDOFF))) {
        vms_rwsem_set_reader_owned(s, vms_rwsem_me());
        bump(&s->read_steal);
        if (rcnt == 1 && (count & VMS_RWSEM_FLAG_WAITERS)) {
            wait_lock(s);
            if (s->first) mark_wake(s, WAKE_READ_OWNED, &q);
            wait_unlock(s);
            wake_up_q(&q);
        }
        return;
    }
    struct vms_rwsem_waiter w = {
        .task = 1, .type = WAITING_FOR_READ, .token = vms_rwsem_me(), .timeout = vms_now_ns() + WAIT_TIMEOUT_NS,
    };
    wait_lock(s);
    if (!s->first) {
        // Nobody queued and no writer: the bias already added is the read lock.
        if (!(atomic_load_explicit(&s->count, memory_order_acquire) & VMS_RWSEM_WRITER_LOCKED)) {
            wait_unlock(s);
            vms_rwsem_set_reader_owned(s, w.token);
            return;
        }
        adjustment += VMS_RWSEM_FLAG_WAITERS;
    }
    add_waiter(s, &w);
    count = atomic_fetch_add_explicit(&s->count, adjustment, memory_order_relaxed) + adjustment;
    cond_wake_waiter(s, count, &q);
    wait_unlock(s);
    wake_up_q(&q);
    bump(&s->read_sleep);
    // Matches the release in mark_wake: the granter's count update is ours from here.
    while (atomic_load_explicit(&w.task, memory_order_acquire)) futex_wait(&w.task, 1);
}

// rwsem_try_write_lock, with wait_lock held. Takes the lock (and leaves the queue), or sets
// the handoff bit once the first waiter has waited its 4 ms, so stealers back off.
static bool try_write_lock(vms_rwsem *s, struct vms_rwsem_waiter *w) {
    struct vms_rwsem_waiter *first = s->first;
    long count = atomic_load_explicit(&s->count, memory_order_relaxed), new;
    do {
        bool has_handoff = count & VMS_RWSEM_FLAG_HANDOFF;
        if (has_handoff && first->handoff_set && w != first) return false;
        new = count;
        if (count & VMS_RWSEM_LOCK_MASK) {
            if (has_handoff || vms_now_ns() <= w->timeout) return false;
            new |= VMS_RWSEM_FLAG_HANDOFF;
        } else {
            new |= VMS_RWSEM_WRITER_LOCKED;
            new &= ~VMS_RWSEM_FLAG_HANDOFF;
            if (s->first == w && s->last == w) new &= ~VMS_RWSEM_FLAG_WAITERS;
        }
    } while (!atomic_compare_exchange_weak_explicit(&s->count, &count, new, memory_order_acquire,
                                                    memory_order_relaxed));
    if (new & VMS_RWSEM_FLAG_HANDOFF) {
        first->handoff_set = true;
        bump(&s->handoffs);
        return false;
    }
    unlink_waiter(s, w);
    atomic_store_explicit(&s->owner, vms_rwsem_me(), memory_order_relaxed);
    return true;
}

static int owner_state(uintptr_t owner) {
    if (owner & VMS_RWSEM_NONSPINNABLE) return OWNER_NONSPINNABLE;
    if (owner & VMS_RWSEM_READER_OWNED) return OWNER_READER;
    return owner ? OWNER_WRITER : OWNER_NULL;
}

// rwsem_spin_on_owner: spin while the same writer holds the lock. `deadline` stands in for
// owner_on_cpu() and need_resched().
static int spin_on_owner(vms_rwsem *s, uint64_t deadline) {
    uintptr_t owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
    int state = owner_state(owner);
    if (state != OWNER_WRITER) return state;
    for (unsigned loop = 1;; loop++) {
        uintptr_t now = atomic_load_explicit(&s->owner, memory_order_relaxed);
        if (now != owner) return owner_state(now);
        if (!(loop & 0xf) && vms_now_ns() > deadline) return OWNER_NONSPINNABLE;
        vms_cpu_relax();
    }
}

static bool try_write_lock_unqueued(vms_rwsem *s) {
    long count = atomic_load_explicit(&s->count, memory_order_relaxed);
    while (!(count & (VMS_RWSEM_LOCK_MASK | VMS_RWSEM_FLAG_HANDOFF))) {
        if (atomic_compare_exchange_weak_explicit(&s->count, &count, count | VMS_RWSEM_WRITER_LOCKED,
                                                  memory_order_acquire, memory_order_relaxed)) {
            atomic_store_explicit(&s->owner, vms_rwsem_me(), memory_order_relaxed);
            return true;
        }
    }
    return false;
}

static void set_nonspinnable(vms_rwsem *s) {
    uintptr_t owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
    do {
        if (!(owner & VMS_RWSEM_READER_OWNED) || (owner & VMS_RWSEM_NONSPINNABLE)) return;
    } while (!atomic_compare_exchange_weak_explicit(&s->owner, &owner, owner | VMS_RWSEM_NONSPINNABLE,
                                                    memory_order_relaxed, memory_order_relaxed));
}

// rwsem_optimistic_spin: before queueing, a writer spins on a running writer owner, and on
// readers for (10 + readers/2) µs (at most 25), taking the lock the moment it is free.
static bool optimistic_spin(vms_rwsem *s) {
    uint64_t deadline = vms_now_ns() + vms_rwsem_owner_spin_ns;
    while (atomic_exchange_explicit(&s->spinner, 1, memory_order_acquire) != 0) {
        if (vms_now_ns() > deadline) return false;
        vms_cpu_relax();
    }
    bool taken = false;
    int prev_state = OWNER_NULL;
    uint64_t rspin_threshold = 0;
    for (unsigned loop = 0;; ) {
        int state = spin_on_owner(s, deadline);
        if (!(state & OWNER_SPINNABLE)) break;
        if ((taken = try_write_lock_unqueued(s))) break;
        if (state == OWNER_READER) {
            if (prev_state != OWNER_READER) {
                if (atomic_load_explicit(&s->owner, memory_order_relaxed) & VMS_RWSEM_NONSPINNABLE) break;
                long readers = atomic_load_explicit(&s->count, memory_order_relaxed) >> VMS_RWSEM_READER_SHIFT;
                if (readers > 30) readers = 30;
                rspin_threshold = vms_now_ns() + (uint64_t)(20 + readers) * 1000 / 2;
                loop = 0;
            } else if (!(++loop & 0xf) && vms_now_ns() > rspin_threshold) {
                set_nonspinnable(s);
                break;
            }
        }
        if (state != OWNER_WRITER && vms_now_ns() > deadline) break;
        prev_state = state;
        vms_cpu_relax();
    }
    atomic_store_explicit(&s->spinner, 0, memory_order_release);
    if (taken) bump(&s->write_spin_taken);
    return taken;
}

void vms_rwsem_down_write_slowpath(vms_rwsem *s) {
    if (!(atomic_load_explicit(&s->owner, memory_order_relaxed) & VMS_RWSEM_NONSPINNABLE) && optimistic_spin(s))
        return;
    struct vms_rwsem_waiter w = {
        .task = 1, .type = WAITING_FOR_WRITE, .token = vms_rwsem_me(), .timeout = vms_now_ns() + WAIT_TIMEOUT_NS,
    };
    struct wake_q q = { .n = 0 };
    wait_lock(s);
    add_waiter(s, &w);
    if (s->first != &w) {
        cond_wake_waiter(s, atomic_load_explicit(&s->count, memory_order_relaxed), &q);
        if (q.n) { wait_unlock(s); wake_up_q(&q); wait_lock(s); }
    } else {
        atomic_fetch_or_explicit(&s->count, VMS_RWSEM_FLAG_WAITERS, memory_order_relaxed);
    }
    while (!try_write_lock(s, &w)) {
        // Read under wait_lock: a wake after the failed try bumps it past `seen`.
        uint32_t seen = atomic_load_explicit(&w.wakeups, memory_order_acquire);
        wait_unlock(s);
        // With the handoff bit set, spin on a running writer rather than sleep.
        bool retry = w.handoff_set && spin_on_owner(s, vms_now_ns() + vms_rwsem_owner_spin_ns) == OWNER_NULL;
        if (!retry) {
            bump(&s->write_sleep);
            futex_wait(&w.wakeups, seen);
        }
        wait_lock(s);
    }
    wait_unlock(s);
}
