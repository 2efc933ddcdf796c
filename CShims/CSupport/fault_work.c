// --fault-work and --mutation-work: what a model fault or mutation does besides its locking.
#include "CSupport.h"
#include <stdlib.h>
#include <string.h>

int vms_fault_work_mode_value = VMS_FAULT_WORK_NONE;
static uint64_t spin_ticks;

enum { POOL_PAGES = 256, PAGE_BYTES = 4096 };

static __thread unsigned char *pool;
static __thread unsigned next_page;
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static void free_pool(void *p) { free(p); }
static void make_pool_key(void) { pthread_key_create(&pool_key, free_pool); }

void vms_fault_work_configure(int mode, uint64_t ticks) {
    spin_ticks = ticks;
    __atomic_store_n(&vms_fault_work_mode_value, mode, __ATOMIC_RELAXED);
}

uint64_t vms_mutation_work_ticks[VMS_MUTATION_KINDS];

void vms_mutation_work_configure(const uint64_t ticks[VMS_MUTATION_KINDS]) {
    for (int k = 0; k < VMS_MUTATION_KINDS; k++) __atomic_store_n(&vms_mutation_work_ticks[k], ticks[k], __ATOMIC_RELAXED);
}

int vms_fault_work_thread_init(void) {
    if (pool) return 0;
    pthread_once(&pool_key_once, make_pool_key);
    void *p = NULL;
    if (posix_memalign(&p, PAGE_BYTES, (size_t)POOL_PAGES * PAGE_BYTES) != 0) return -1;
    memset(p, 1, (size_t)POOL_PAGES * PAGE_BYTES);
    pool = p;
    pthread_setspecific(pool_key, p);
    return 0;
}

void vms_fault_work_slow(int mode) {
    if (mode == VMS_FAULT_WORK_PAGE) {
        if (!pool && vms_fault_work_thread_init() != 0) return;
        // clear_page of the next page of the pool: 1 MiB cycled, so most
        // clears miss the L1 and L2 as a freshly allocated page would.
        unsigned char *page = pool + (size_t)next_page * PAGE_BYTES;
        next_page = (next_page + 1) % POOL_PAGES;
        memset(page, 0, PAGE_BYTES);
        __asm__ __volatile__("" : : "r"(page) : "memory");
    } else if (mode == VMS_FAULT_WORK_SPIN) {
        uint64_t until = vms_rdtsc() + spin_ticks;
        while (vms_rdtsc() < until) vms_cpu_relax();
    }
}
