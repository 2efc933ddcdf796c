// liburcu, memb flavor (membarrier-based readers), for Swift.
// _LGPL_SOURCE makes the read-side fast path static inline, so these wrappers
// inline into Swift loops instead of calling the exported symbols.
#ifndef VMS_URCU_MEMB_SHIM_H
#define VMS_URCU_MEMB_SHIM_H

#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

static inline void vms_memb_register_thread(void) { urcu_memb_register_thread(); }
static inline void vms_memb_unregister_thread(void) { urcu_memb_unregister_thread(); }
static inline void vms_memb_read_lock(void) { urcu_memb_read_lock(); }
static inline void vms_memb_read_unlock(void) { urcu_memb_read_unlock(); }
static inline int vms_memb_read_ongoing(void) { return urcu_memb_read_ongoing(); }
static inline void vms_memb_synchronize(void) { urcu_memb_synchronize_rcu(); }
static inline void vms_memb_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *)) {
    urcu_memb_call_rcu(head, func);
}
static inline void vms_memb_barrier(void) { urcu_memb_barrier(); }

static inline void *vms_rcu_dereference(void *const *p) { return rcu_dereference(*(void **)p); }
static inline void vms_rcu_assign_pointer(void **p, void *v) { rcu_assign_pointer(*p, v); }
static inline void *vms_rcu_xchg_pointer(void **p, void *v) { return rcu_xchg_pointer(p, v); }

#endif
