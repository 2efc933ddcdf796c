// The reference for how mutation and fault costs grow with the VMA count on the host kernel
// (issue 28, scope 4): N one-page VMAs with alternating protections (so none merge), a one-page
// hole after each, then for SECONDS each
//   - map+unmap: a random hole mapped MAP_FIXED_NOREPLACE (its neighbours' protections differ,
//     so it stays a VMA of its own) and unmapped again;
//   - zap+fault: a random VMA's page dropped with MADV_DONTNEED and written again (a real fault).
// Prints one line: vmas, map+unmap pairs/s, zap+fault/s.
//
//   cc -O2 -o vma_scale bench/vma-scale/vma_scale.c && ./vma_scale 30000 3
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 256;
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    long page = sysconf(_SC_PAGESIZE);
    if (n < 1 || seconds <= 0) { fprintf(stderr, "usage: vma_scale VMAS SECONDS\n"); return 2; }
    // The room: 2 pages per VMA (the VMA and the hole after it), reserved then handed back.
    size_t room = (size_t)(2 * n) * (size_t)page;
    char *base = mmap(NULL, room, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 1; }
    munmap(base, room);
    for (long i = 0; i < n; i++) {
        int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
        char *p = mmap(base + 2 * i * page, page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED) { fprintf(stderr, "vma %ld: %s (vm.max_map_count?)\n", i, strerror(errno)); return 1; }
    }
    long pairs = 0;
    double t0 = now(), t;
    do {
        for (int k = 0; k < 64; k++) {
            char *hole = base + (2 * (long)(next() % n) + 1) * page;
            // PROT_EXEC|READ differs from both neighbours, so the new VMA merges with neither.
            char *p = mmap(hole, page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED) { perror("mmap hole"); return 1; }
            munmap(p, page);
            pairs++;
        }
    } while ((t = now()) - t0 < seconds);
    double pairRate = pairs / (t - t0);
    long zaps = 0;
    t0 = now();
    do {
        for (int k = 0; k < 64; k++) {
            char *v = base + 2 * (long)(next() % ((n + 1) / 2)) * 2 * page;  // the writable ones (even i)
            if (v >= base + 2 * n * page) continue;
            madvise(v, page, MADV_DONTNEED);
            *(volatile char *)v = 1;
            zaps++;
        }
    } while ((t = now()) - t0 < seconds);
    printf("%ld vmas: map+unmap %.0f pairs/s, zap+fault %.0f/s\n", n, pairRate, zaps / (t - t0));
    return 0;
}
