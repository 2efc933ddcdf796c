// --processes: one worker of the kernel backend in a process of its own, as
// will-it-scale's processes column runs its testcases. The child is forked
// from a worker thread of a multi-threaded process, so it calls only system
// calls (no malloc, no locks, no Swift) until it _exits. Counters, sampled
// latencies and a resource snapshot go through a MAP_SHARED page the parent
// made before the fork; the parent's proxy thread reads them.
#include "CSupport.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

// Sampled latencies, a ring the proxy drains: op kind in the top byte, ticks below.
#define VMS_TASK_SAMPLES (1u << 16)

struct vms_task {
    // Set before the fork.
    int kind, touch, fd, shared;
    uint64_t bytes, sample_mask;
    pid_t pid;
    // Written by the child, one writer each.
    _Atomic uint64_t faults, mmaps, munmaps, mmaps_failed;
    _Atomic int error;
    _Atomic uint64_t sample_head;
    _Atomic uint64_t snapshot_done;
    struct rusage usage;
    // Written by the parent.
    _Atomic int stop;
    _Atomic uint64_t snapshot_request;
    uint64_t samples[VMS_TASK_SAMPLES];
};

vms_task *vms_task_create(int kind, uint64_t bytes, int touch, int fd, int shared, uint64_t sample_mask) {
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

// Answers the proxy's request for a resource snapshot (the start of the measured window).
static inline void poll(vms_task *t) {
    uint64_t want = atomic_load_explicit(&t->snapshot_request, memory_order_acquire);
    if (want != atomic_load_explicit(&t->snapshot_done, memory_order_relaxed)) {
        getrusage(RUSAGE_SELF, &t->usage);
        atomic_store_explicit(&t->snapshot_done, want, memory_order_release);
    }
}

static inline int stopping(vms_task *t) { return atomic_load_explicit(&t->stop, memory_order_relaxed); }

static void run_chunks(vms_task *t) {
    const long page = sysconf(_SC_PAGESIZE);
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
        // THP off: one 4 KiB PTE per fault, as in the threads mode and the model.
        if (t->fd < 0) madvise(c, t->bytes, MADV_NOHUGEPAGE);
        sample(t, VMS_TASK_MMAP, t1 - t0);
        bump(&t->mmaps);
        for (uint64_t i = 0; t->touch && i < t->bytes && !stopping(t); i += (uint64_t)page, n++) {
            if ((n & t->sample_mask) == 0) {
                uint64_t f0 = vms_rdtsc();
                ((volatile char *)c)[i] = 0;
                sample(t, VMS_TASK_FAULT, vms_rdtsc() - f0);
            } else {
                ((volatile char *)c)[i] = 0;
            }
            bump(&t->faults);
            if ((n & 255) == 0) poll(t);
        }
        t0 = vms_rdtsc();
        munmap(c, t->bytes);
        sample(t, VMS_TASK_MUNMAP, vms_rdtsc() - t0);
        bump(&t->munmaps);
        poll(t);
    }
}

// brk1: the child never calls malloc, so it may move the break itself.
static void run_brk(vms_task *t) {
    const long page = sysconf(_SC_PAGESIZE);
    char *top = sbrk(0);
    while (!stopping(t)) {
        uint64_t t0 = vms_rdtsc();
        int grown = brk(top + page) == 0;
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
        brk(top);
        sample(t, VMS_TASK_MUNMAP, vms_rdtsc() - t0);
        bump(&t->munmaps);
        poll(t);
    }
}

int vms_task_start(vms_task *t) {
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
    if (t->kind == VMS_TASK_BRK) run_brk(t); else run_chunks(t);
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
    for (;;) {
        pid_t r = wait4(t->pid, status, block ? 0 : WNOHANG, usage);
        if (r == t->pid) return 0;
        if (r == 0) return EAGAIN;
        if (r < 0 && errno != EINTR) return errno;
    }
}

int vms_task_pause(vms_task *t, int paused) { return kill(t->pid, paused ? SIGSTOP : SIGCONT) ? errno : 0; }

int vms_task_signal_of(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
int vms_task_exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
