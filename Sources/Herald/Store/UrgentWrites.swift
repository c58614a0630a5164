import Synchronization

/// Writes that must not wait behind long ones, announced while they wait.
///
/// SQLite has one writer, and writes queue for it first come, first served: a transaction that runs for tens
/// of milliseconds (a fan-out chunk planning 1,000 members) holds back every write behind it, a critical
/// trigger's included. A critical write raises this while it waits for the writer; a long transaction that
/// can stop part-way (a fan-out chunk) looks at it between its parts and commits what it has done, so the
/// urgent write waits for one part, not the whole transaction. PostgreSQL's writers do not queue behind each
/// other, so its store has none.
public final class UrgentWrites: Sendable {
    private let waiting = Atomic<Int>(0)

    public init() {}

    /// Whether an urgent write is waiting (or running) right now.
    public var arePending: Bool { waiting.load(ordering: .relaxed) > 0 }

    /// Announces one urgent write; each call is paired with one ``lower()`` once that write is done.
    public func raise() { waiting.add(1, ordering: .relaxed) }

    public func lower() { waiting.subtract(1, ordering: .relaxed) }
}
