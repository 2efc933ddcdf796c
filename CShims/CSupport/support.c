#include "CSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pid_t vms_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int vms_sched_getcpu(void) { return sched_getcpu(); }

int vms_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    return pthread_setname_np(pthread_self(), buf);
}

int vms_set_thread_affinity(pthread_t thread, const int *cpus, int n) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return pthread_setaffinity_np(thread, sizeof set, &set);
}

int vms_set_affinity(const int *cpus, int n) { return vms_set_thread_affinity(pthread_self(), cpus, n); }

int vms_get_affinity(int *out, int max) {
    cpu_set_t set;
    int rc = pthread_getaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) return -rc;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    return n;
}

int vms_timed_join(pthread_t thread, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(thread, NULL, &deadline);
}

int vms_thread_rusage(struct rusage *out) {
    return getrusage(RUSAGE_THREAD, out) == 0 ? 0 : errno;
}

int vms_rwlock_init_prefer_writer(pthread_rwlock_t *lock) {
    pthread_rwlockattr_t attr;
    int rc = pthread_rwlockattr_init(&attr);
    if (rc != 0) return rc;
    rc = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (rc == 0) rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
}

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_count;
static volatile sig_atomic_t quit_requests;

static void on_stop_signal(int signo) {
    if (stop_signal == 0) stop_signal = signo;
    stop_count++;
    // GNU timeout signals the child and then its process group, and people
    // press Ctrl-C twice: a second signal must not lose the results. A third
    // is someone who wants out now.
    if (stop_count >= 3) {
        static const char msg[] = "vmastress: third stop signal: exiting at once, without writing results\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + stop_signal);
    }
}

static void on_quit_signal(int signo) {
    (void)signo;
    quit_requests++;
}

void vms_install_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    // SIGQUIT asks for a thread dump (the stall watchdog prints it); the
    // Swift runtime's crash handler would print a backtrace and stall the run.
    sa.sa_handler = on_quit_signal;
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    // A parent may have left them blocked (test runners do); threads created
    // after this inherit the unblocked mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int vms_stop_signal(void) { return stop_signal; }

int vms_stop_signal_count(void) { return stop_count; }

int vms_quit_requests(void) { return quit_requests; }

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int vms_rename_exchange(const char *a, const char *b) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

void vms_raise_stop(int signo) { stop_signal = signo; }

int vms_malloc_trim(void) { return malloc_trim(0); }
