// liburcu, signal flavor, for Swift. One clang module per flavor: call-rcu.h and
// flavor.h have include guards, so two flavors in one module would leave the
// second without call_rcu.
//
// _LGPL_SOURCE makes the read-side fast path static inline, so these wrappers
// inline into Swift loops instead of calling the exported symbols.
// Callbacks and heads cross as void pointers: every flavor module declares
// its own struct rcu_head, and Swift would see them as different types.
#ifndef VMS_URCU_SIGNAL_SHIM_H
#define VMS_URCU_SIGNAL_SHIM_H

#define _LGPL_SOURCE
#include <urcu/urcu-signal.h>
#include <urcu/pointer.h>

_Static_assert(sizeof(struct rcu_head) <= 16, "VMAAllocator reserves 16 bytes for struct rcu_head");

#include <signal.h>

// Readers must take SIGRCU (SIGUSR1). Threads from a dispatch pool block every
// signal, and liburcu's call_rcu thread inherits the mask of the thread whose
// call_rcu created it: a blocked SIGRCU there stalls every grace period.
static inline void vms_signal_unblock_sigrcu(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRCU);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static inline void vms_signal_register_thread(void) {
    vms_signal_unblock_sigrcu();
    urcu_signal_register_thread();
}
static inline void vms_signal_unregister_thread(void) { urcu_signal_unregister_thread(); }
static inline void vms_signal_read_lock(void) { urcu_signal_read_lock(); }
static inline void vms_signal_read_unlock(void) { urcu_signal_read_unlock(); }
static inline int vms_signal_read_ongoing(void) { return urcu_signal_read_ongoing(); }
static inline void vms_signal_quiescent_state(void) { urcu_signal_quiescent_state(); }
static inline void vms_signal_thread_offline(void) { urcu_signal_thread_offline(); }
static inline void vms_signal_thread_online(void) { urcu_signal_thread_online(); }
static inline void vms_signal_synchronize(void) { urcu_signal_synchronize_rcu(); }
static inline void vms_signal_barrier(void) { urcu_signal_barrier(); }
/// call_rcu: `func` receives `head` after a grace period, on liburcu's call_rcu thread.
static inline void vms_signal_call_rcu(void *head, void (*func)(void *head)) {
    vms_signal_unblock_sigrcu();
    urcu_signal_call_rcu((struct rcu_head *)head, (void (*)(struct rcu_head *))func);
}

#endif
