import Foundation

extension HeraldEngine {
    public func messages(tenantID: String, _ query: MessageQuery) async throws -> Page<Message> {
        try await store.messages(tenantID: tenantID, query)
    }

    public func message(tenantID: String, id: String) async throws -> (Message, [DeliveryAttempt]) {
        guard let rowID = Message.rowID(id), let found = try await store.message(tenantID: tenantID, id: rowID) else {
            throw HeraldError.notFound("message '\(id)'")
        }
        return found
    }

    /// The bounces and complaints recorded against an email message, oldest first.
    public func emailFeedback(tenantID: String, messageID: String) async throws -> [EmailFeedback] {
        guard let rowID = Message.rowID(messageID) else { return [] }
        return try await store.emailFeedback(messageRow: rowID)
    }

    /// Requeues a failed or dead-lettered message with a fresh attempt budget.
    public func retryMessage(tenantID: String, id: String) async throws -> Message {
        guard let rowID = Message.rowID(id), let message = try await store.retryMessage(tenantID: tenantID, id: rowID, now: clock.now()) else {
            throw HeraldError.notFound("message '\(id)'")
        }
        signal.ring([.critical, .messages])
        return message
    }

    public func queueDepth() async throws -> QueueDepth {
        try await store.queueDepth(now: clock.now())
    }
}
