import Foundation

/// One recipient's run of an event's workflow, as the API and the console show it: each step with its
/// state, why, and the messages it made.
public struct WorkflowRun: Sendable, Codable, Hashable {
    public struct Step: Sendable, Codable, Hashable {
        public var index: Int
        /// `send email`, `wait 15m until read`.
        public var summary: String
        /// `pending`, `waiting`, `sending`, `done`, `skipped` or `failed`.
        public var status: String
        public var reason: String?
        public var at: Date?
        public var until: Date?
        public var messages: [MessageSummary]

        enum CodingKeys: String, CodingKey {
            case index, summary, status, reason, at, until, messages
        }
    }

    public struct MessageSummary: Sendable, Codable, Hashable {
        public var id: String
        public var channel: ChannelKind
        public var status: MessageStatus
        public var reason: String?
    }

    public var subscriberId: String
    public var status: WorkflowRunStatus
    public var outcome: String?
    /// When a waiting run is next due.
    public var dueAt: Date?
    public var steps: [Step]
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case subscriberId = "subscriber_id"
        case status, outcome
        case dueAt = "due_at"
        case steps
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
