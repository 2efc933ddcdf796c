// What the host kernel's mutations cost, one thread, for `vmastress calibrate`: each system
// call timed on its own over loops shaped like will-it-scale's mmap1 (map 128 MiB, unmap it,
// untouched) and like the model's mprotect and mremap (a split or merge a call, one page
// with its PTE moved), beside the cheapest system call (the entry and exit alone).
#include "CSupport.h"
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TIMED(total, call) do { uint64_t t0_ = vms_now_ns(); call; total += vms_now_ns() - t0_; } while (0)

int vms_kernel_mutation_costs(uint64_t min_ns, double out[VMS_MUTATION_KINDS]) {
    const uint64_t bytes = 128u << 20;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t spent[VMS_MUTATION_KINDS] = {0}, calls[VMS_MUTATION_KINDS] = {0};

    for (uint64_t start = vms_now_ns(); vms_now_ns() - start < min_ns;) {
        void *p;
        TIMED(spent[VMS_MUTATION_MAP], p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) return errno;
        TIMED(spent[VMS_MUTATION_UNMAP], munmap(p, bytes));
        calls[VMS_MUTATION_MAP]++;
        calls[VMS_MUTATION_UNMAP]++;
    }

    // Three pages; the middle one's protection flips, so each call splits a VMA in three or
    // merges three into one.
    char *three = mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (three == MAP_FAILED) return errno;
    for (uint64_t start = vms_now_ns(); vms_now_ns() - start < min_ns;) {
        TIMED(spent[VMS_MUTATION_PROTECT], mprotect(three + page, (size_t)page, PROT_READ));
        TIMED(spent[VMS_MUTATION_PROTECT], mprotect(three + page, (size_t)page, PROT_READ | PROT_WRITE));
        calls[VMS_MUTATION_PROTECT] += 2;
    }
    munmap(three, 3 * (size_t)page);

    // One touched page moved between two places in a reserved range, PTE and all.
    char *room = mmap(NULL, 4 * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (room == MAP_FAILED) return errno;
    char *at = mmap(room, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (at == MAP_FAILED) return errno;
    at[0] = 1;
    for (uint64_t start = vms_now_ns(); vms_now_ns() - start < min_ns;) {
        char *to = at == room ? room + 2 * page : room;
        void *moved;
        TIMED(spent[VMS_MUTATION_REMAP], moved = mremap(at, (size_t)page, (size_t)page, MREMAP_MAYMOVE | MREMAP_FIXED, to));
        if (moved == MAP_FAILED) { int e = errno; munmap(room, 4 * (size_t)page); return e; }
        at = moved;
        calls[VMS_MUTATION_REMAP]++;
    }
    munmap(room, 4 * (size_t)page);

    for (uint64_t start = vms_now_ns(); vms_now_ns() - start < min_ns;) {
        TIMED(spent[VMS_MUTATION_SYSCALL], syscall(SYS_getppid));
        calls[VMS_MUTATION_SYSCALL]++;
    }
    for (int k = 0; k < VMS_MUTATION_KINDS; k++) out[k] = calls[k] ? (double)spent[k] / (double)calls[k] : 0;
    return 0;
}
