import CHeraldMalloc

/// How Herald keeps glibc's allocator from holding memory it no longer uses.
///
/// glibc gives each thread that contends for the heap an arena of its own, up to eight per core, and an arena
/// keeps what was freed in it. Herald's work moves between many threads (the event loops, Swift's executor,
/// SQLite's queues), so a million-member fan-out left its peak spread over a dozen arenas. Two things help:
/// - the arenas are capped at two before `main` runs (CHeraldMalloc's constructor; `MALLOC_ARENA_MAX` wins when
///   set): one arena held that fan-out under 200 MB but made ingest and email 5 to 8% slower on two cores, two
///   cost nothing measurable;
/// - freed pages inside an arena are handed back by `malloc_trim`, which ``MemoryReturnService`` calls.
/// The figures are in docs/performance.md.
public enum ProcessMemory {
    /// The arena cap in force (2), or nil when `MALLOC_ARENA_MAX` or a libc other than glibc decides.
    public static var arenaCap: Int? {
        let cap = Int(herald_malloc_arena_cap())
        return cap > 0 ? cap : nil
    }

    /// Hands the free pages of every arena back to the system.
    public static func returnFreePages() {
        _ = herald_malloc_trim()
    }
}
