import Synchronization

/// How many request bodies larger than `server.max_body_bytes` (triggers and event types carrying files)
/// are read and handled at once, process-wide. Each can hold tens of megabytes several times over (the
/// body, its decoded files, their base64 for the database), so without a bound a burst of them could
/// exhaust memory; one over the bound is answered 429 at once, before its body is read further.
final class LargeBodyGate: Sendable {
    /// Large bodies handled at once.
    static let defaultLimit = 4
    /// The process's gate, shared by every route that reads large bodies.
    static let shared = LargeBodyGate()

    private let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int = LargeBodyGate.defaultLimit) {
        self.limit = limit
    }

    /// Takes a place, or answers false when all are taken. Every true is followed by one ``leave()``.
    func enter() -> Bool {
        inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        inFlight.withLock { $0 = max(0, $0 - 1) }
    }
}
