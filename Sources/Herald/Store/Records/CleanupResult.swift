import Foundation

/// What a cleanup pass removed.
public struct CleanupResult: Sendable, Hashable {
    public var messages: Int
    public var events: Int
    public var idempotencyKeys: Int
    /// Days of history dropped whole (PostgreSQL's partitions), rows not counted.
    public var droppedPartitions: Int

    public init(messages: Int, events: Int, idempotencyKeys: Int, droppedPartitions: Int = 0) {
        self.messages = messages
        self.events = events
        self.idempotencyKeys = idempotencyKeys
        self.droppedPartitions = droppedPartitions
    }
}
