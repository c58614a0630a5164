#include "CHeraldMalloc.h"

#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static int arena_cap = 0;

// Runs before main, so before any thread has made an arena of its own: a cap set later leaves the arenas
// already made in place. MALLOC_ARENA_MAX, read by glibc itself, wins when an operator sets it.
__attribute__((constructor)) static void herald_malloc_limit_arenas(void) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    if (getenv("MALLOC_ARENA_MAX") == NULL && mallopt(M_ARENA_MAX, HERALD_MALLOC_ARENAS) == 1) {
        arena_cap = HERALD_MALLOC_ARENAS;
    }
#endif
}

int herald_malloc_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

int herald_malloc_arena_cap(void) { return arena_cap; }
