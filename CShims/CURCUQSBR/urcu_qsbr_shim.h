// liburcu, qsbr flavor, for Swift. One clang module per flavor: call-rcu.h and
// flavor.h have include guards, so two flavors in one module would leave the
// second without call_rcu.
//
// _LGPL_SOURCE makes the read-side fast path static inline, so these wrappers
// inline into Swift loops instead of calling the exported symbols.
// Callbacks and heads cross as void pointers: every flavor module declares
// its own struct rcu_head, and Swift would see them as different types.
#ifndef VMS_URCU_QSBR_SHIM_H
#define VMS_URCU_QSBR_SHIM_H

#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h>
#include <urcu/pointer.h>

_Static_assert(sizeof(struct rcu_head) <= 16, "VMAAllocator reserves 16 bytes for struct rcu_head");

static inline void vms_qsbr_register_thread(void) { urcu_qsbr_register_thread(); }
static inline void vms_qsbr_unregister_thread(void) { urcu_qsbr_unregister_thread(); }
static inline void vms_qsbr_read_lock(void) { urcu_qsbr_read_lock(); }
static inline void vms_qsbr_read_unlock(void) { urcu_qsbr_read_unlock(); }
static inline int vms_qsbr_read_ongoing(void) { return urcu_qsbr_read_ongoing(); }
static inline void vms_qsbr_quiescent_state(void) { urcu_qsbr_quiescent_state(); }
static inline void vms_qsbr_thread_offline(void) { urcu_qsbr_thread_offline(); }
static inline void vms_qsbr_thread_online(void) { urcu_qsbr_thread_online(); }
static inline void vms_qsbr_synchronize(void) { urcu_qsbr_synchronize_rcu(); }
static inline void vms_qsbr_barrier(void) { urcu_qsbr_barrier(); }
/// call_rcu: `func` receives `head` after a grace period, on liburcu's call_rcu thread.
static inline void vms_qsbr_call_rcu(void *head, void (*func)(void *head)) {
    urcu_qsbr_call_rcu((struct rcu_head *)head, (void (*)(struct rcu_head *))func);
}

#endif
