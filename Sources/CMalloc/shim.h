// glibc's malloc tuning (mallopt and its parameters), which the Glibc module does not export.
#ifndef RECOVERY_GATEWAY_CMALLOC_SHIM_H
#define RECOVERY_GATEWAY_CMALLOC_SHIM_H

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#endif
