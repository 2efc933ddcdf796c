// --preempt: preemption injected without outside load. A timer signals the
// calling thread after a random stretch of time, so the signal lands between
// any two instructions, not only at a delay point (a
// window a writer leaves open for a few instructions after an unlock is as
// likely to be hit as any other). The handler holds the thread where it was
// stopped: it spins (the thread keeps its CPU; its half-done state stays
// visible to the threads on the other CPUs), yields, or sleeps (the CPU goes to
// another thread, as an involuntary context switch would), then re-arms. rr's
// chaos mode and rcutorture's preemption injection do the same from outside.
//
// The timer is CLOCK_MONOTONIC, not the thread's CPU clock: CPU-clock timers
// expire only at the scheduler tick (measured here: about 275 a second per run
// whatever the mean asked, HZ 250), so they cannot stop a thread every 200 us.
// A signal that finds the thread blocked wakes it early: futex waits restart
// (SA_RESTART) or re-check their word, and sleeps here end early, which every
// caller tolerates (they loop on a condition or a deadline).
#include "CSupport.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int preempt_signal;

// Per thread: written by the thread and by its own signal handler only.
static __thread timer_t thread_timer;
static __thread volatile sig_atomic_t armed;
static __thread uint64_t rng_state, mean_ns;
static __thread struct vms_preempt_counts counts;

static uint64_t next_random(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

// Uniform in [mean/2, 3 mean/2).
static void rearm(void) {
    uint64_t ns = mean_ns / 2 + next_random() % mean_ns;
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)}};
    timer_settime(thread_timer, 0, &its, NULL);
}

// Only async-signal-safe calls: clock_gettime, sched_yield, nanosleep, timer_settime.
static void on_preempt(int sig, siginfo_t *info, void *uc) {
    (void)sig, (void)info, (void)uc;
    if (!armed) return;
    int saved = errno;
    uint64_t r = next_random();
    unsigned choice = r % 16;
    if (choice < 10) {
        uint64_t until = vms_now_ns() + VMS_PREEMPT_SPIN_MIN_NS + (r >> 8) % (VMS_PREEMPT_SPIN_MAX_NS - VMS_PREEMPT_SPIN_MIN_NS);
        while (vms_now_ns() < until) vms_cpu_relax();
        counts.spins++;
    } else if (choice < 13) {
        sched_yield();
        counts.yields++;
    } else {
        uint64_t ns = VMS_PREEMPT_SLEEP_MIN_NS + (r >> 8) % (VMS_PREEMPT_SLEEP_MAX_NS - VMS_PREEMPT_SLEEP_MIN_NS);
        struct timespec nap = {.tv_sec = 0, .tv_nsec = (long)ns};
        nanosleep(&nap, NULL);
        counts.sleeps++;
    }
    rearm();
    errno = saved;
}

static void install(void) {
    preempt_signal = SIGRTMIN + 6;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_preempt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(preempt_signal, &sa, NULL);
}

int vms_preempt_arm(uint64_t mean_interval_ns, uint64_t seed) {
    pthread_once(&install_once, install);
    // The thread may have inherited a mask that blocks it (swift test's
    // threads do): a blocked timer signal stays
    // pending and the thread is never stopped.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, preempt_signal);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = preempt_signal;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &thread_timer) != 0) return errno;
    rng_state = seed * 0x9E3779B97F4A7C15u | 1;
    mean_ns = mean_interval_ns < 2 ? 2 : mean_interval_ns;
    counts = (struct vms_preempt_counts){0};
    armed = 1;
    rearm();
    return 0;
}

struct vms_preempt_counts vms_preempt_disarm(void) {
    if (!armed) return (struct vms_preempt_counts){0};
    armed = 0;  // a signal already pending finds the thread disarmed and returns
    timer_delete(thread_timer);
    return counts;
}
