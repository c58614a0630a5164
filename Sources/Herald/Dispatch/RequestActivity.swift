import Dispatch
import Synchronization

/// Whether this node is answering requests, so that batch work can leave them the machine.
///
/// A topic's fan-out plans its next chunk while the store writes the one before (``FanoutWorker``): on
/// PostgreSQL that is Herald's planning, the database's read and its write at once, two cores' worth. On the
/// project's two-core machine, with a fan-out to a million members running, a subscriber's inbox read waited for a
/// core: p99 22 to 31 ms with the chunk planned ahead, 20 to 22 ms one chunk at a time (docs/scaling.md). So a fan-out
/// plans ahead only while the node is quiet: no request in flight, and none ended in the last ``quietAfter``.
/// The server counts every request it answers (long-lived inbox streams once, as they open).
public final class RequestActivity: Sendable {
    /// How long after its last request a node counts as quiet.
    public static let quietAfter: Duration = .milliseconds(quietMilliseconds)
    private static let quietMilliseconds: UInt64 = 500
    private static let quietNanoseconds = quietMilliseconds * 1_000_000

    private let inFlight = Atomic<Int>(0)
    /// When the last request ended, in nanoseconds of uptime (0: none yet).
    private let lastEnded = Atomic<UInt64>(0)

    public init() {}

    /// Runs `body` as one request.
    public func serving<T>(_ body: () async throws -> T) async rethrows -> T {
        inFlight.add(1, ordering: .relaxed)
        defer {
            lastEnded.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            inFlight.subtract(1, ordering: .relaxed)
        }
        return try await body()
    }

    /// No request in flight, and none ended within ``quietAfter``.
    public var isQuiet: Bool {
        guard inFlight.load(ordering: .relaxed) == 0 else { return false }
        let ended = lastEnded.load(ordering: .relaxed)
        return ended == 0 || DispatchTime.now().uptimeNanoseconds &- ended >= Self.quietNanoseconds
    }
}
