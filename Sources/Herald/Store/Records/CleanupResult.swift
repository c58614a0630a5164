import Foundation

/// What a cleanup pass removed.
public struct CleanupResult: Sendable, Hashable {
    public var messages: Int
    public var events: Int
    public var idempotencyKeys: Int
    /// Days of history dropped whole (PostgreSQL's partitions), rows not counted.
    public var droppedPartitions: Int
    /// When a day of history that waits for its drop has expired whole (its last row's expiry). Until the
    /// drop, a read that walks that day's index in order steps over every expired row, so the retention
    /// service comes back then rather than after its interval.
    public var nextDropAt: Date?

    public init(messages: Int, events: Int, idempotencyKeys: Int, droppedPartitions: Int = 0) {
        self.messages = messages
        self.events = events
        self.idempotencyKeys = idempotencyKeys
        self.droppedPartitions = droppedPartitions
    }
}
