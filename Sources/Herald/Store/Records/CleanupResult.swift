import Foundation

/// What a cleanup pass removed.
public struct CleanupResult: Sendable, Hashable {
    public var messages: Int
    public var events: Int
    public var idempotencyKeys: Int

    public init(messages: Int, events: Int, idempotencyKeys: Int) {
        self.messages = messages
        self.events = events
        self.idempotencyKeys = idempotencyKeys
    }
}
