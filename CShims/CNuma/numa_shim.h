#ifndef VMS_NUMA_SHIM_H
#define VMS_NUMA_SHIM_H
#include <numa.h>
#endif
