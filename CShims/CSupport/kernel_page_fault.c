// will-it-scale's page_fault1 on the host kernel, one thread: map 128 MiB of
// private anonymous memory, write one byte per page, unmap, again.
#include "CSupport.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int vms_kernel_page_fault1(uint64_t bytes, int huge_pages, uint64_t min_ns, uint64_t *faults, uint64_t *elapsed_ns) {
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = vms_now_ns(), n = 0;
    do {
        char *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED) return errno;
        // THP off unless asked: the model installs one 4 KiB PTE per fault.
        if (!huge_pages) madvise(c, bytes, MADV_NOHUGEPAGE);
        for (uint64_t i = 0; i < bytes; i += (uint64_t)page) {
            ((volatile char *)c)[i] = 0;
            n++;
        }
        munmap(c, bytes);
    } while (vms_now_ns() - start < min_ns);
    *faults = n;
    *elapsed_ns = vms_now_ns() - start;
    return 0;
}
