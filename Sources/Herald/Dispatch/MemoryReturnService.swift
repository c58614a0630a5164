import ServiceLifecycle

/// Hands freed heap pages back to the system every second, so the memory a fan-out or a burst used is not kept
/// after it (``ProcessMemory``). A call walks the allocator's free lists: microseconds at rest, a few
/// milliseconds with a large heap.
final class MemoryReturnService: Service, Sendable {
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                ProcessMemory.returnFreePages()
            }
        }
    }
}
