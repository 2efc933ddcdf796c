// The kernel backend's page touches: a read or a write of one byte that
// returns how it went instead of crashing. Each thread's touch arms a
// sigjmp_buf; the SIGSEGV/SIGBUS handler jumps back to it while a touch is
// in flight and otherwise hands the signal to whoever had it before, so a
// real crash elsewhere still crashes.
#include "CSupport.h"
#include <setjmp.h>
#include <signal.h>
#include <string.h>

static __thread sigjmp_buf touch_env;
static __thread volatile sig_atomic_t touching;
static struct sigaction previous_segv, previous_bus;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void on_fault(int sig, siginfo_t *info, void *uc) {
    if (touching) {
        touching = 0;
        siglongjmp(touch_env, sig == SIGSEGV && info->si_code == SEGV_ACCERR ? VMS_TOUCH_ACCESS : VMS_TOUCH_NO_MAPPING);
    }
    struct sigaction *prev = sig == SIGSEGV ? &previous_segv : &previous_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, uc);
    } else if (prev->sa_handler != SIG_IGN && prev->sa_handler != SIG_DFL) {
        prev->sa_handler(sig);
    } else {
        // Default action: restore it and return, so the faulting instruction runs again and kills us.
        sigaction(sig, prev, NULL);
    }
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

void vms_touch_install(void) { pthread_once(&handlers_once, install); }

int vms_touch(void *addr, int write) {
    int r = sigsetjmp(touch_env, 0);
    if (r != 0) return r;
    touching = 1;
    if (write) {
        // A locked OR of zero: a write access (it needs a writable PTE) that
        // changes nothing. Written in assembly: a compiler may turn an
        // idempotent atomic into a load.
        __asm__ __volatile__("lock orb $0, %0" : "+m"(*(volatile unsigned char *)addr) : : "memory");
    } else {
        (void)*(volatile unsigned char *)addr;
    }
    touching = 0;
    return VMS_TOUCH_OK;
}

int vms_guarded(void (*body)(void *), void *arg) {
    int r = sigsetjmp(touch_env, 0);
    if (r != 0) return r;
    touching = 1;
    body(arg);
    touching = 0;
    return VMS_TOUCH_OK;
}

// The kernel backend's system calls on its own reservation, with the flags
// Swift's Glibc module does not carry; each returns 0 or an errno.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

void *vms_reserve(uint64_t bytes) {
    // On a PMD (2 MiB) boundary, with the slack before it given back: page
    // p of the model is then as aligned as the kernel aligns large mappings.
    const uint64_t pmd = 2u << 20;
    char *p = mmap(NULL, bytes + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *base = (char *)(((uintptr_t)p + pmd - 1) & ~(uintptr_t)(pmd - 1));
    if (base > p) munmap(p, (size_t)(base - p));
    if (base + bytes < p + bytes + pmd) munmap(base + bytes, (size_t)(p + bytes + pmd - (base + bytes)));
    return base;
}

static int os_prot(int prot) { return (prot & 1 ? PROT_READ : 0) | (prot & 2 ? PROT_WRITE : 0); }

int vms_map_over(void *addr, uint64_t bytes, int prot, int fd, int shared) {
    int flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE) | (fd < 0 ? MAP_ANONYMOUS : 0);
    if (mmap(addr, bytes, os_prot(prot), flags, fd, 0) == MAP_FAILED) return errno;
    // One 4 KiB PTE per anonymous fault, as in calibrate and the task loops (THP in "always" mode needs the call).
    if (fd < 0 && vms_thp_always()) madvise(addr, bytes, MADV_NOHUGEPAGE);
    return 0;
}

static int thp_always;
static pthread_once_t thp_once = PTHREAD_ONCE_INIT;

static void read_thp_mode(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return;
    char line[128] = {0};
    if (fgets(line, sizeof line, f)) thp_always = strstr(line, "[always]") != NULL;
    fclose(f);
}

int vms_thp_always(void) {
    pthread_once(&thp_once, read_thp_mode);
    return thp_always;
}

int vms_temp_file(uint64_t bytes, int reserve) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/vmastress.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return -errno;
    unlink(path);
    if (ftruncate(fd, (off_t)bytes) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    // A shared mapping's stores need blocks of the file: on a full file system a
    // sparse file turns the first store into SIGBUS mid-run. Reserve them now,
    // where running out is an error with a name.
    if (reserve) {
        int e = posix_fallocate(fd, 0, (off_t)bytes);
        if (e != 0) {
            close(fd);
            return -e;
        }
    }
    return fd;
}

int vms_placeholder(void *addr, uint64_t bytes, int noreplace) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
    void *p = mmap(addr, bytes, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED) return errno;
    if (p != addr) { munmap(p, bytes); return EEXIST; }  // kernels before 4.17 take NOREPLACE as a hint
    return 0;
}

int vms_protect(void *addr, uint64_t bytes, int prot) { return mprotect(addr, bytes, os_prot(prot)) ? errno : 0; }

int vms_remap_to(void *old, uint64_t bytes, void *to) {
    return mremap(old, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED ? errno : 0;
}

int vms_unmap(void *addr, uint64_t bytes) { return munmap(addr, bytes) ? errno : 0; }

int vms_discard(void *addr, uint64_t bytes) { return madvise(addr, bytes, MADV_DONTNEED) ? errno : 0; }
