// The one place Vigil includes mimalloc (Debian libmimalloc-dev): the allocator linked into the vigil executable.
#ifndef VIGIL_CMIMALLOC_SHIM_H
#define VIGIL_CMIMALLOC_SHIM_H
#include <mimalloc.h>
#endif
