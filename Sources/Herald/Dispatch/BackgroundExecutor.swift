import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One thread of its own, at a lower scheduling priority, for long batch work: a topic's fan-out plans and renders
/// a thousand messages at a time without a suspension point between them.
///
/// Swift's cooperative pool has a thread per core and never preempts a job. On the pool, a chunk's planning held a
/// thread for tens of milliseconds, and an inbox read that came in meanwhile waited for it (on two cores, its p99
/// under a million-member fan-out was 26 ms against 9 quiet). Here the kernel preempts the batch thread for any
/// request, and its lower priority (a nice value of ``niceness``) leaves a fan-out what the machine has spare:
/// alone, it still gets every idle cycle.
///
/// Tasks run here by executor preference (`withTaskExecutorPreference`, `Task(executorPreference:)`); what they
/// await elsewhere (a database's own queues, the network) runs where it always did.
public final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {
    /// The nice value of the thread: requests (at 0) get about ten times its share of a busy core.
    public static let niceness: Int32 = 10

    /// The process's one batch thread, started on first use.
    public static let shared = BackgroundExecutor(name: "herald-batch")

    /// Jobs waiting for the thread, guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private let condition = NSCondition()
    /// The thread's `pthread_self()`, once it runs.
    private let threadID = Atomic<UInt>(0)

    init(name: String) {
        let thread = Thread { [self] in
            #if canImport(Glibc)
                // On Linux a nice value is the thread's, and `who` 0 is the calling thread: the rest of the process keeps
                // its priority. Refused only by a sandbox, when the thread simply runs at the process's own.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
                // Named for `top -H` and profiles (Foundation's `Thread.name` does not reach the kernel on Linux).
                try? String(name.prefix(15)).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            #endif
            threadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
            runJobs()
        }
        thread.start()
    }

    /// Whether the caller runs on this executor's thread.
    public var isCurrentThread: Bool {
        threadID.load(ordering: .acquiring) == UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    private func runJobs() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
