import Foundation

/// One recipient × one channel of an event, with its state and, for in-app, its inbox fields.
public struct Message: Sendable, Codable, Hashable {
    public var id: String
    public var eventId: String
    public var eventType: String
    public var subscriberId: String
    public var channel: ChannelKind
    public var priority: Priority
    public var status: MessageStatus
    /// A suppression reason word, or a short failure reason.
    public var reason: String?
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// When the message is due (or, while sending, when its lease runs out).
    public var availableAt: Date?
    public var sentAt: Date?
    /// For a queued message held back (quiet hours, a digest, a rate limit, a send time): until when.
    public var heldUntil: Date?
    /// For a duplicate: the message of the original event.
    public var duplicateOf: String?
    /// For an item merged into a digest, or a digest's own message: the digest's message.
    public var digestMessageId: String?
    /// The first open of a tracked email (its pixel loaded); mail privacy proxies load it too.
    public var openedAt: Date?
    /// Opens of a tracked email, repeats included; set on email messages only.
    public var openCount: Int?
    /// The first click: on a tracked email link, or on an inbox item's link.
    public var clickedAt: Date?
    /// Clicks on a tracked email's links, repeats included; set on email messages only.
    public var clickCount: Int?

    public init(
        id: String, eventId: String, eventType: String, subscriberId: String, channel: ChannelKind, priority: Priority,
        status: MessageStatus, reason: String?, attempts: Int, lastError: String?, createdAt: Date, updatedAt: Date,
        availableAt: Date?, sentAt: Date?
    ) {
        self.id = id
        self.eventId = eventId
        self.eventType = eventType
        self.subscriberId = subscriberId
        self.channel = channel
        self.priority = priority
        self.status = status
        self.reason = reason
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.availableAt = availableAt
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case eventId = "event_id"
        case eventType = "event_type"
        case subscriberId = "subscriber_id"
        case channel, priority, status, reason, attempts
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case availableAt = "available_at"
        case sentAt = "sent_at"
        case heldUntil = "held_until"
        case duplicateOf = "duplicate_of"
        case digestMessageId = "digest_message_id"
        case openedAt = "opened_at"
        case openCount = "open_count"
        case clickedAt = "clicked_at"
        case clickCount = "click_count"
    }

    /// Public message ids are `msg_` plus the row number; the store keys on the number.
    public static func publicID(_ rowID: Int64) -> String { "msg_\(rowID)" }

    public static func rowID(_ publicID: String) -> Int64? {
        guard publicID.hasPrefix("msg_") else { return nil }
        return Int64(publicID.dropFirst(4))
    }
}

/// One try at delivering a message.
public struct DeliveryAttempt: Sendable, Codable, Hashable {
    public enum Outcome: String, Sendable, Codable {
        case delivered, sent
        case transientFailure = "transient_failure"
        case permanentFailure = "permanent_failure"
        /// The provider was unreachable; the try did not count against the message's attempts.
        case deferred
    }

    public var number: Int
    public var startedAt: Date
    public var durationMs: Double
    public var outcome: Outcome
    /// The provider's answer or the error, never a secret.
    public var detail: String?

    /// The one try of an in-app message delivered as it was planned (``InAppComposer``): it has no attempt
    /// row, since its message row says it all; the attempt log shows this in its place.
    public static func inboxWrite(at date: Date) -> DeliveryAttempt {
        DeliveryAttempt(number: 1, startedAt: date, durationMs: 0, outcome: .delivered, detail: InAppChannel.deliveredDetail)
    }

    public init(number: Int, startedAt: Date, durationMs: Double, outcome: Outcome, detail: String?) {
        self.number = number
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case number
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case outcome, detail
    }
}
