// The RCU loops for liburcu's bp flavor (one flavor per translation unit).
#define _LGPL_SOURCE
#include <urcu/urcu-bp.h>
#include "CBenchLoops.h"

uint64_t vms_c_rcu_bp_read(const int *stop, void *const *slot) {
    uint64_t n = 0;
    urcu_bp_register_thread();
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < VMS_BENCH_BATCH; i++) {
            urcu_bp_read_lock();
            void *p = rcu_dereference(*(void **)slot);
            __asm__ __volatile__("" : : "r"(p) : "memory");
            urcu_bp_read_unlock();
        }
        n += VMS_BENCH_BATCH;
    }
    urcu_bp_unregister_thread();
    return n;
}

uint64_t vms_c_rcu_bp_sync(const int *stop) {
    uint64_t n = 0;
    while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
        urcu_bp_synchronize_rcu();
        n++;
    }
    return n;
}
