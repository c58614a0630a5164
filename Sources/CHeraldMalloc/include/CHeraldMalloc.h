// glibc's allocator controls, which Swift's Glibc module leaves out (they live in <malloc.h>).
// Elsewhere (macOS, musl) they do nothing. See Sources/Herald/Support/ProcessMemory.swift.
#ifndef C_HERALD_MALLOC_H
#define C_HERALD_MALLOC_H

/// The malloc arenas a process linking Herald is capped at before main runs, unless MALLOC_ARENA_MAX is set.
#define HERALD_MALLOC_ARENAS 2

/// Returns the free pages of every arena to the system (malloc_trim); returns 1 if any memory was released.
int herald_malloc_trim(void);

/// The arena cap in force: HERALD_MALLOC_ARENAS, or 0 when MALLOC_ARENA_MAX (or a non-glibc libc) decides.
int herald_malloc_arena_cap(void);

#endif
