// The RCU loops for liburcu's mb flavor (one flavor per translation unit).
#define _LGPL_SOURCE
#include <urcu/urcu-mb.h>
#include "CBenchLoops.h"

uint64_t vms_c_rcu_mb_read(const int *stop, void *const *slot) {
    uint64_t n = 0;
    urcu_mb_register_thread();
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < VMS_BENCH_BATCH; i++) {
            urcu_mb_read_lock();
            void *p = rcu_dereference(*(void **)slot);
            __asm__ __volatile__("" : : "r"(p) : "memory");
            urcu_mb_read_unlock();
        }
        n += VMS_BENCH_BATCH;
    }
    urcu_mb_unregister_thread();
    return n;
}

uint64_t vms_c_rcu_mb_sync(const int *stop) {
    uint64_t n = 0;
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
        urcu_mb_synchronize_rcu();
        n++;
    }
    return n;
}
