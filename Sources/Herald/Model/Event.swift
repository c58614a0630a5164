import Foundation

/// One trigger as stored: its type, payload, and how its messages stand.
public struct Event: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable {
        /// Topic recipients are still being fanned out into messages.
        case fanningOut = "fanning_out"
        /// Every message is planned.
        case planned
        case cancelled
    }

    public var id: String
    public var type: String
    public var priority: Priority
    public var status: Status
    public var payload: [String: JSONValue]
    public var actor: String?
    public var createdAt: Date
    public var sendAt: Date?
    public var expiresAt: Date
    /// The trigger's cancellation key: `DELETE /v1/events?cancellation_key=` cancels every event holding it.
    public var cancellationKey: String?

    public init(
        id: String, type: String, priority: Priority, status: Status, payload: [String: JSONValue], actor: String?,
        createdAt: Date, sendAt: Date?, expiresAt: Date
    ) {
        self.id = id
        self.type = type
        self.priority = priority
        self.status = status
        self.payload = payload
        self.actor = actor
        self.createdAt = createdAt
        self.sendAt = sendAt
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, type, priority, status, payload, actor
        case createdAt = "created_at"
        case sendAt = "send_at"
        case expiresAt = "expires_at"
        case cancellationKey = "cancellation_key"
    }
}

/// What a trigger answers: the event id and how its direct recipients were planned.
public struct TriggerReceipt: Sendable, Codable, Hashable {
    public var eventId: String
    public var status: Event.Status
    /// Planned messages by status (`queued`, `suppressed`), for direct recipients; topics fan out afterwards.
    public var messages: [String: Int]
    public var topics: [String]
    /// For an event type with a workflow: the runs started for direct recipients (their messages are
    /// planned step by step, so `messages` starts empty).
    public var workflowRuns: Int?

    public init(eventId: String, status: Event.Status, messages: [String: Int], topics: [String]) {
        self.eventId = eventId
        self.status = status
        self.messages = messages
        self.topics = topics
    }

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case status, messages, topics
        case workflowRuns = "workflow_runs"
    }
}
