// GNU and x86 facilities Swift's Glibc module does not expose, compiled with _GNU_SOURCE.
#ifndef VMS_CSUPPORT_H
#define VMS_CSUPPORT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#include "kernel_rwsem.h"

// Thread identity and placement.
pid_t vms_gettid(void);
int vms_sched_getcpu(void);
/// Names the calling thread (truncated to 15 bytes, as the kernel requires). 0 or an errno.
int vms_set_thread_name(const char *name);
/// Restricts the calling thread to `cpus[0..n)`. 0 or an errno.
int vms_set_affinity(const int *cpus, int n);
/// Restricts another thread to `cpus[0..n)`. 0 or an errno.
int vms_set_thread_affinity(pthread_t thread, const int *cpus, int n);
/// Writes the calling thread's allowed CPUs into `out` (at most `max`); returns the count, or -errno.
int vms_get_affinity(int *out, int max);
/// pthread_timedjoin_np with a timeout in milliseconds: 0, ETIMEDOUT or an errno.
int vms_timed_join(pthread_t thread, int timeout_ms);
/// getrusage(RUSAGE_THREAD) for the calling thread. 0 or an errno.
int vms_thread_rusage(struct rusage *out);

/// malloc_trim(0): returns free heap memory to the system (so RSS shows what is held).
int vms_malloc_trim(void);

/// A pthread rwlock that prefers writers, like a kernel rwsem: a waiting writer
/// blocks new readers, so continuous faulters cannot starve munmap.
int vms_rwlock_init_prefer_writer(pthread_rwlock_t *lock);

// Stop signals: SIGINT, SIGTERM and SIGHUP set a flag the harness polls; the
// first one's number is kept (the exit status is 128 + it). A second one
// while stopping changes nothing; a third ends the process at once.
// SIGQUIT counts a request for a thread dump; SIGPIPE is ignored (a write to
// a closed pipe fails with EPIPE and the run goes on).
void vms_install_stop_signals(void);
/// 0 while no stop signal arrived, else the first one's number.
int vms_stop_signal(void);
/// Stop signals received so far.
int vms_stop_signal_count(void);
/// SIGQUITs received so far.
int vms_quit_requests(void);
/// Simulates a stop signal (tests, watchdog).
void vms_raise_stop(int signo);
/// renameat2(RENAME_EXCHANGE): swaps two paths atomically; -1 and errno on failure.
int vms_rename_exchange(const char *a, const char *b);

/// CLOCK_MONOTONIC in nanoseconds.
static inline uint64_t vms_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t vms_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return 0;
#endif
}

/// The spin-wait hint (PAUSE on x86).
static inline void vms_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/// Keeps the compiler from eliding a computed value in a benchmark loop.
static inline void vms_blackhole(uint64_t v) { __asm__ __volatile__("" : : "r"(v) : "memory"); }

// --preempt (preempt.c): a timer stops the calling thread after a random stretch
// of [mean/2, 3 mean/2) (CLOCK_MONOTONIC), wherever it is, and holds it
// there: 10 times in 16 a spin of 2-30 us, 3 a sched_yield, 3 a sleep of 20-200 us.
enum {
    VMS_PREEMPT_SPIN_MIN_NS = 2000, VMS_PREEMPT_SPIN_MAX_NS = 30000,
    VMS_PREEMPT_SLEEP_MIN_NS = 20000, VMS_PREEMPT_SLEEP_MAX_NS = 200000,
};
struct vms_preempt_counts { uint64_t spins, yields, sleeps; };
// Arms the calling thread; 0, or an errno (timer_create).
int vms_preempt_arm(uint64_t mean_interval_ns, uint64_t seed);
// Disarms it and returns what its handler did since it was armed.
struct vms_preempt_counts vms_preempt_disarm(void);

// --fault-work: the work a model fault does before it takes the PTL, as the
// kernel's do_anonymous_page clears a new page before pte_offset_map_lock.
// Configured once before the workers start; read relaxed on every fault.
enum { VMS_FAULT_WORK_NONE = 0, VMS_FAULT_WORK_PAGE = 1, VMS_FAULT_WORK_SPIN = 2 };
extern int vms_fault_work_mode_value;
void vms_fault_work_configure(int mode, uint64_t ticks);
// Allocates the calling thread's page pool (1 MiB); 0 on success.
int vms_fault_work_thread_init(void);
void vms_fault_work_slow(int mode);
static inline int vms_fault_work_mode(void) { return __atomic_load_n(&vms_fault_work_mode_value, __ATOMIC_RELAXED); }

// --mutation-work: what a model mutation costs besides the model's own steps, per system
// call: the entry and exit before mmap_lock is taken (SYSCALL), and the kernel's work inside
// it for each kind. Spun with rdtsc; configured once before the workers start.
enum {
    VMS_MUTATION_MAP = 0, VMS_MUTATION_UNMAP = 1, VMS_MUTATION_PROTECT = 2, VMS_MUTATION_REMAP = 3,
    VMS_MUTATION_SYSCALL = 4, VMS_MUTATION_KINDS = 5,
};
extern uint64_t vms_mutation_work_ticks[VMS_MUTATION_KINDS];
void vms_mutation_work_configure(const uint64_t ticks[VMS_MUTATION_KINDS]);
static inline void vms_mutation_work(int kind) {
    uint64_t ticks = __atomic_load_n(&vms_mutation_work_ticks[kind], __ATOMIC_RELAXED);
    if (ticks == 0) return;
    uint64_t until = vms_rdtsc() + ticks;
    while (vms_rdtsc() < until) vms_cpu_relax();
}
// The host kernel's cost per call of each kind (ns), one thread, each loop run for min_ns
// (kernel_mutations.c). 0, or an errno.
int vms_kernel_mutation_costs(uint64_t min_ns, double out[VMS_MUTATION_KINDS]);

// will-it-scale page_fault1 on the host kernel, on the calling thread, for
// at least min_ns: mmap `bytes` private anonymous (THP off unless huge_pages),
// write one byte per page, munmap, again. 0, or an errno.
int vms_kernel_page_fault1(uint64_t bytes, int huge_pages, uint64_t min_ns, uint64_t *faults, uint64_t *elapsed_ns);

// The kernel backend's touches: one byte read, or written with a locked OR
// of zero (a write access that changes nothing), on the calling thread.
// Returns VMS_TOUCH_OK, or how the access faulted fatally. vms_touch_install
// (once per process) puts in the SIGSEGV/SIGBUS handler, which passes any
// fault outside a touch on to the handler it replaced.
enum { VMS_TOUCH_OK = 0, VMS_TOUCH_NO_MAPPING = 1, VMS_TOUCH_ACCESS = 2 };
void vms_touch_install(void);
int vms_touch(void *addr, int write);
// Runs body(arg) as one long touch: a fatal fault inside it returns
// VMS_TOUCH_NO_MAPPING or VMS_TOUCH_ACCESS at once (what body wrote to
// memory stays; its locals are lost), VMS_TOUCH_OK when it returns.
int vms_guarded(void (*body)(void *), void *arg);

// will-it-scale's testcases on the kernel backend, in will-it-scale's own
// loop: in a process of its own (--processes; the parent makes the task, a
// MAP_SHARED page of counters and a ring of sampled latencies, before it
// forks, and the child calls nothing but system calls) or in a thread of
// this process (in_thread: threads mode, one mm). The loop runs until
// vms_task_stop. VMS_TASK_CHUNKS: mmap `bytes` (a file if fd >= 0,
// MAP_SHARED if shared), write one byte per page if touch, munmap, again.
// VMS_TASK_BRK: move the break up a page and back.
enum { VMS_TASK_CHUNKS = 0, VMS_TASK_BRK = 1 };
// Sample kinds (the top byte of a drained sample) and the counters' order.
enum { VMS_TASK_FAULT = 0, VMS_TASK_MMAP = 1, VMS_TASK_MUNMAP = 2 };
enum { VMS_TASK_COUNTERS = 5 };  // faults, mmaps, munmaps, failed mmaps, last errno
typedef struct vms_task vms_task;
vms_task *vms_task_create(int kind, uint64_t bytes, int touch, int fd, int shared, uint64_t sample_mask, int in_thread);
// A process: the child's pid, or -errno. A thread: 0, or -errno (brk1 in
// threads mode first raises the break 4 GiB, a window above malloc's heap).
int vms_task_start(vms_task *t);
void vms_task_counters(vms_task *t, uint64_t out[VMS_TASK_COUNTERS]);
// Copies up to max samples after *tail (advanced); returns how many.
uint64_t vms_task_drain(vms_task *t, uint64_t *tail, uint64_t *out, uint64_t max);
// The task's getrusage (RUSAGE_SELF of the child, RUSAGE_THREAD of the thread) now; 0, or ETIMEDOUT.
int vms_task_snapshot(vms_task *t, struct rusage *usage, uint64_t timeout_ns);
void vms_task_stop(vms_task *t);
// Whether it has ended, with its total resource use: 0, EAGAIN (not blocking
// and still running) or an errno. A process is reaped (waitpid), a thread joined.
int vms_task_wait(vms_task *t, int block, int *status, struct rusage *usage);
// Holds the task over the run's checkpoints: SIGSTOP or SIGCONT to a child;
// a thread is held at its next poll (within a call or 256 touches). 0 or an errno.
int vms_task_pause(vms_task *t, int paused);
// Threads mode: the vms_touch result that ended the loop early (0: none).
int vms_task_touch_failure(vms_task *t);
// From a wait status: the signal that killed the child (0: none), its exit code (-1: none).
int vms_task_signal_of(int status);
int vms_task_exit_code_of(int status);
// Whether the host's transparent huge pages are in "always" mode (anonymous
// mappings then need MADV_NOHUGEPAGE for 4 KiB faults).
int vms_thp_always(void);
void vms_task_destroy(vms_task *t);

// The kernel backend's calls on its own reservation (prot: 1 read, 2 write).
// vms_reserve: PROT_NONE, MAP_NORESERVE, NULL on failure. vms_map_over:
// MAP_FIXED over the caller's own range (fd -1: anonymous; else the file
// from offset 0, MAP_SHARED if shared). vms_placeholder: a PROT_NONE
// MAP_NORESERVE mapping, MAP_FIXED (over the caller's own range: munmap's
// work, leaving nothing that another mmap could take) or
// MAP_FIXED_NOREPLACE. vms_remap_to: mremap(MREMAP_MAYMOVE|MREMAP_FIXED).
// Each returns 0 or an errno.
void *vms_reserve(uint64_t bytes);
int vms_map_over(void *addr, uint64_t bytes, int prot, int fd, int shared);
// will-it-scale's per-task file: created in $TMPDIR (or /tmp), sized to
// `bytes`, unlinked; with `reserve`, its blocks allocated up front (for shared
// mappings, whose stores would otherwise SIGBUS on a full file system).
// The descriptor, or -errno.
int vms_temp_file(uint64_t bytes, int reserve);
int vms_placeholder(void *addr, uint64_t bytes, int noreplace);
int vms_protect(void *addr, uint64_t bytes, int prot);
int vms_remap_to(void *old, uint64_t bytes, void *to);
int vms_unmap(void *addr, uint64_t bytes);
// madvise(MADV_DONTNEED): the busted twin's "munmap".
int vms_discard(void *addr, uint64_t bytes);

#endif
