import Foundation
import Herald
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The batch thread a fan-out runs on: its work leaves Swift's cooperative pool, at a lower priority.
@Suite("Background executor")
struct BackgroundExecutorTests {
    /// The thread's name and nice value, read on the thread that runs the caller (a synchronous look).
    static func here() -> (onBatch: Bool, nice: Int32) {
        #if canImport(Glibc)
            let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #else
            let nice: Int32 = 0
        #endif
        return (BackgroundExecutor.shared.isCurrentThread, nice)
    }

    @Test("work that prefers the batch executor runs on its one thread, at nice 10, across suspensions; the rest of the process keeps its priority")
    func runsOnItsThreadAtALowerPriority() async throws {
        let seen = try await withTaskExecutorPreference(BackgroundExecutor.shared) {
            let first = Self.here()
            try await Task.sleep(for: .milliseconds(20))
            let afterSleep = Self.here()
            async let child = Self.here()
            return [first, afterSleep, await child]
        }
        for seen in seen {
            #expect(seen.onBatch)
            #if os(Linux)
                #expect(seen.nice == BackgroundExecutor.niceness)
            #endif
        }
        let outside = await Task.detached { Self.here() }.value
        #expect(!outside.onBatch)
        #if os(Linux)
            #expect(outside.nice == 0, "only the batch thread is lowered")
        #endif
        let unstructured = await Task(executorPreference: BackgroundExecutor.shared) { Self.here() }.value
        #expect(unstructured.onBatch)
    }
}
