// will-it-scale's testcases on the kernel backend: one worker's loop, in C,
// as will-it-scale's own binaries run it. --processes: in a process of its
// own, forked from a worker thread of a multi-threaded process, so it calls
// only system calls (no malloc, no locks, no Swift) until it _exits. Threads
// mode: in a thread of this process (one mm shared by all workers), started
// from the worker thread, which inherits its CPU and memory placement.
// Counters, sampled latencies and resource snapshots go through a MAP_SHARED
// page made before the fork or the thread; the worker thread is the proxy
// that reads them.
#include "CSupport.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

// Sampled latencies, a ring the proxy drains: op kind in the top byte, ticks below.
#define VMS_TASK_SAMPLES (1u << 16)

struct vms_task {
    // Set before the start.
    int kind, touch, fd, shared, in_thread, no_huge;
    uint64_t bytes, sample_mask;
    pid_t pid;
    pthread_t thread;
    char *brk_base;
    // Written by the task, one writer each.
    _Atomic uint64_t faults, mmaps, munmaps, mmaps_failed;
    _Atomic int error;
    _Atomic uint64_t sample_head;
    _Atomic uint64_t snapshot_done;
    struct rusage usage;
    // Threads mode: set when the loop has ended (its resource use in final_usage),
    // the touch result that ended it early, and the pause acknowledgement.
    _Atomic int ended, touch_failure, paused;
    struct rusage final_usage;
    // Written by the proxy.
    _Atomic int stop, pause_request;
    _Atomic uint64_t snapshot_request;
    uint64_t samples[VMS_TASK_SAMPLES];
};

vms_task *vms_task_create(int kind, uint64_t bytes, int touch, int fd, int shared, uint64_t sample_mask, int in_thread) {
    void *p = mmap(NULL, sizeof(vms_task), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    memset(p, 0, sizeof(vms_task));
    vms_task *t = p;
    t->kind = kind;
    t->bytes = bytes;
    t->touch = touch;
    t->fd = fd;
    t->shared = shared;
    t->sample_mask = sample_mask;
    t->in_thread = in_thread;
    // THP in "always" mode would map 2 MiB a fault; in "madvise" or "never"
    // an anonymous mapping gets 4 KiB PTEs without the extra call, as
    // will-it-scale's own loop runs.
    t->no_huge = vms_thp_always();
    return t;
}

void vms_task_destroy(vms_task *t) { munmap(t, sizeof(vms_task)); }

static inline void bump(_Atomic uint64_t *c) {
    // One writer: a relaxed load and store, no locked instruction.
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static inline void sample(vms_task *t, uint64_t kind, uint64_t ticks) {
    uint64_t h = atomic_load_explicit(&t->sample_head, memory_order_relaxed);
    t->samples[h & (VMS_TASK_SAMPLES - 1)] = kind << 56 | (ticks & ((1ull << 56) - 1));
    // Release: the proxy reads the entry after it sees the head.
    atomic_store_explicit(&t->sample_head, h + 1, memory_order_release);
}

static inline void usage_now(vms_task *t, struct rusage *u) { getrusage(t->in_thread ? RUSAGE_THREAD : RUSAGE_SELF, u); }

static inline int stopping(vms_task *t) { return atomic_load_explicit(&t->stop, memory_order_relaxed); }

// Answers the proxy's request for a resource snapshot (the start of the
// measured window) and, in threads mode, holds the loop while the proxy asks
// for a pause (a process is paused with SIGSTOP instead).
static inline void poll(vms_task *t) {
    uint64_t want = atomic_load_explicit(&t->snapshot_request, memory_order_acquire);
    if (want != atomic_load_explicit(&t->snapshot_done, memory_order_relaxed)) {
        usage_now(t, &t->usage);
        atomic_store_explicit(&t->snapshot_done, want, memory_order_release);
    }
    if (atomic_load_explicit(&t->pause_request, memory_order_acquire)) {
        atomic_store_explicit(&t->paused, 1, memory_order_release);
        struct timespec nap = {0, 100000};
        while (atomic_load_explicit(&t->pause_request, memory_order_acquire) && !stopping(t)) nanosleep(&nap, NULL);
        atomic_store_explicit(&t->paused, 0, memory_order_release);
    }
}

// One chunk's touches, a byte written per page; *n counts touches (the
// sampling and poll clock) across chunks.
struct chunk { vms_task *t; char *c; uint64_t *n; };

static void touch_chunk(void *arg) {
    struct chunk *k = arg;
    vms_task *t = k->t;
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    for (uint64_t i = 0; i < t->bytes && !stopping(t); i += page, (*k->n)++) {
        if ((*k->n & t->sample_mask) == 0) {
            uint64_t f0 = vms_rdtsc();
            ((volatile char *)k->c)[i] = 0;
            sample(t, VMS_TASK_FAULT, vms_rdtsc() - f0);
        } else {
            ((volatile char *)k->c)[i] = 0;
        }
        bump(&t->faults);
        if ((*k->n & 255) == 0) poll(t);
    }
}

static void run_chunks(vms_task *t) {
    int flags = t->fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : t->shared ? MAP_SHARED : MAP_PRIVATE;
    uint64_t n = 0;
    while (!stopping(t)) {
        uint64_t t0 = vms_rdtsc();
        char *c = mmap(NULL, t->bytes, PROT_READ | PROT_WRITE, flags, t->fd, 0);
        uint64_t t1 = vms_rdtsc();
        if (c == MAP_FAILED) {
            bump(&t->mmaps_failed);
            atomic_store_explicit(&t->error, errno, memory_order_relaxed);
            poll(t);
            continue;
        }
        // One 4 KiB PTE per fault, as in the model.
        if (t->fd < 0 && t->no_huge) madvise(c, t->bytes, MADV_NOHUGEPAGE);
        sample(t, VMS_TASK_MMAP, t1 - t0);
        bump(&t->mmaps);
        struct chunk k = {t, c, &n};
        // A fault kills a process of its own (the proxy reports how it died);
        // a thread's whole chunk runs guarded (one sigsetjmp, plain stores), and
        // a touch that fails ends its loop, kept for the proxy.
        if (t->touch && !t->in_thread) touch_chunk(&k);
        if (t->touch && t->in_thread) {
            int r = vms_guarded(touch_chunk, &k);
            if (r != VMS_TOUCH_OK) {
                atomic_store_explicit(&t->touch_failure, r, memory_order_relaxed);
                munmap(c, t->bytes);
                return;
            }
        }
        t0 = vms_rdtsc();
        munmap(c, t->bytes);
        sample(t, VMS_TASK_MUNMAP, vms_rdtsc() - t0);
        bump(&t->munmaps);
        poll(t);
    }
}

// brk1: the child never calls malloc, so it may move the break itself; in
// threads mode all threads move the one break of this process from the same
// base, as will-it-scale's brk1_threads does (brk_setup: far above malloc's heap).
static void run_brk(vms_task *t) {
    const long page = sysconf(_SC_PAGESIZE);
    char *top = t->in_thread ? t->brk_base : sbrk(0);
    while (!stopping(t)) {
        uint64_t t0 = vms_rdtsc();
        // The system call itself (glibc's brk also caches the break for sbrk).
        int grown = (char *)syscall(SYS_brk, top + page) == top + page;
        uint64_t t1 = vms_rdtsc();
        if (!grown) {
            bump(&t->mmaps_failed);
            atomic_store_explicit(&t->error, errno, memory_order_relaxed);
            poll(t);
            continue;
        }
        sample(t, VMS_TASK_MMAP, t1 - t0);
        bump(&t->mmaps);
        t0 = vms_rdtsc();
        syscall(SYS_brk, top);
        sample(t, VMS_TASK_MUNMAP, vms_rdtsc() - t0);
        bump(&t->munmaps);
        poll(t);
    }
}

static void run(vms_task *t) {
    if (t->kind == VMS_TASK_BRK) run_brk(t); else run_chunks(t);
}

static void *thread_main(void *arg) {
    vms_task *t = arg;
    run(t);
    usage_now(t, &t->final_usage);
    atomic_store_explicit(&t->ended, 1, memory_order_release);
    return NULL;
}

// The break in threads mode. This process's malloc grows and trims its main
// arena with brk too, from its own idea of where the break is (glibc's
// cached __curbrk, which a raw SYS_brk does not move). So the brk1 threads
// take a window far above it: once, the break is raised to 4 GiB past where
// it stands (untouched, it costs no memory), and from then on the threads
// move it between that base and a page above, as brk1_threads does. When
// malloc moves the break from its own side it is always below the window
// (its heap would need 4 GiB), so malloc only ever shrinks the break down to
// its own memory or grows it inside memory that is already its own; the
// threads' next brk raises it to the window again over free address space.
#define VMS_BRK_GAP (4ull << 30)
static char *brk_base;
static int brk_error;
static pthread_once_t brk_once = PTHREAD_ONCE_INIT;

static void brk_setup(void) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    char *now = (char *)syscall(SYS_brk, 0);
    char *base = (char *)(((uintptr_t)now + page - 1) & ~(page - 1)) + VMS_BRK_GAP;
    if ((char *)syscall(SYS_brk, base) != base) { brk_error = ENOMEM; return; }
    brk_base = base;
}

int vms_task_start(vms_task *t) {
    if (t->in_thread) {
        if (t->kind == VMS_TASK_BRK) {
            pthread_once(&brk_once, brk_setup);
            if (!brk_base) return -brk_error;
            t->brk_base = brk_base;
        }
        int e = pthread_create(&t->thread, NULL, thread_main, t);
        return e ? -e : 0;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) {
        t->pid = pid;
        return pid;
    }
    // The child: killed with the parent; the parent's stop signals are the
    // parent's to handle (it stops us through the shared page); a fault is
    // fatal here and the parent reports how we died.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    struct sigaction dfl, ign;
    memset(&dfl, 0, sizeof dfl);
    memset(&ign, 0, sizeof ign);
    dfl.sa_handler = SIG_DFL;
    ign.sa_handler = SIG_IGN;
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};
    for (unsigned i = 0; i < sizeof ignored / sizeof ignored[0]; i++) sigaction(ignored[i], &ign, NULL);
    sigaction(SIGSEGV, &dfl, NULL);
    sigaction(SIGBUS, &dfl, NULL);
    run(t);
    _exit(0);
}

void vms_task_stop(vms_task *t) { atomic_store_explicit(&t->stop, 1, memory_order_relaxed); }

void vms_task_counters(vms_task *t, uint64_t out[VMS_TASK_COUNTERS]) {
    out[0] = atomic_load_explicit(&t->faults, memory_order_relaxed);
    out[1] = atomic_load_explicit(&t->mmaps, memory_order_relaxed);
    out[2] = atomic_load_explicit(&t->munmaps, memory_order_relaxed);
    out[3] = atomic_load_explicit(&t->mmaps_failed, memory_order_relaxed);
    out[4] = (uint64_t)atomic_load_explicit(&t->error, memory_order_relaxed);
}

uint64_t vms_task_drain(vms_task *t, uint64_t *tail, uint64_t *out, uint64_t max) {
    uint64_t head = atomic_load_explicit(&t->sample_head, memory_order_acquire);
    // Entries the child has lapped are lost; the newest ring's worth is kept.
    if (head - *tail > VMS_TASK_SAMPLES) *tail = head - VMS_TASK_SAMPLES;
    uint64_t n = 0;
    for (; *tail < head && n < max; (*tail)++, n++) out[n] = t->samples[*tail & (VMS_TASK_SAMPLES - 1)];
    return n;
}

int vms_task_snapshot(vms_task *t, struct rusage *usage, uint64_t timeout_ns) {
    uint64_t want = atomic_load_explicit(&t->snapshot_request, memory_order_relaxed) + 1;
    atomic_store_explicit(&t->snapshot_request, want, memory_order_release);
    struct timespec nap = {0, 100000};
    for (uint64_t waited = 0; waited < timeout_ns; waited += 100000) {
        if (atomic_load_explicit(&t->snapshot_done, memory_order_acquire) == want) {
            *usage = t->usage;
            return 0;
        }
        nanosleep(&nap, NULL);
    }
    return ETIMEDOUT;
}

int vms_task_wait(vms_task *t, int block, int *status, struct rusage *usage) {
    if (t->in_thread) {
        if (!block && !atomic_load_explicit(&t->ended, memory_order_acquire)) return EAGAIN;
        if (t->thread) pthread_join(t->thread, NULL);
        t->thread = 0;
        *status = 0;
        *usage = t->final_usage;
        return 0;
    }
    for (;;) {
        pid_t r = wait4(t->pid, status, block ? 0 : WNOHANG, usage);
        if (r == t->pid) return 0;
        if (r == 0) return EAGAIN;
        if (r < 0 && errno != EINTR) return errno;
    }
}

int vms_task_pause(vms_task *t, int paused) {
    if (!t->in_thread) return kill(t->pid, paused ? SIGSTOP : SIGCONT) ? errno : 0;
    atomic_store_explicit(&t->pause_request, paused, memory_order_release);
    if (!paused) return 0;
    // Held at its next poll: within a system call or 256 page touches.
    struct timespec nap = {0, 50000};
    for (int i = 0; i < 20000; i++) {
        if (atomic_load_explicit(&t->paused, memory_order_acquire) || atomic_load_explicit(&t->ended, memory_order_acquire)) return 0;
        nanosleep(&nap, NULL);
    }
    return ETIMEDOUT;
}

int vms_task_touch_failure(vms_task *t) { return atomic_load_explicit(&t->touch_failure, memory_order_relaxed); }

int vms_task_signal_of(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
int vms_task_exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
