import Foundation

/// A validated trigger ready to be stored: its event type is resolved and its payload checked.
public struct PreparedTrigger: Sendable {
    public var eventID: String
    public var trigger: Trigger
    public var eventType: EventType
    public var expiresAt: Date

    public init(eventID: String, trigger: Trigger, eventType: EventType, expiresAt: Date) {
        self.eventID = eventID
        self.trigger = trigger
        self.eventType = eventType
        self.expiresAt = expiresAt
    }
}

/// An idempotency key with the hash of the request it came with.
public struct IdempotencyClaim: Sendable, Hashable {
    public var key: String
    public var requestHash: String

    public init(key: String, requestHash: String) {
        self.key = key
        self.requestHash = requestHash
    }
}

/// What accepting triggers produced: new receipts, or the stored answer to an earlier identical request.
/// One trigger request, as ``Store/acceptMany(_:now:)`` takes several at once.
public struct AcceptRequest: Sendable {
    public var tenantID: String
    public var triggers: [PreparedTrigger]
    public var idempotency: IdempotencyClaim?

    public init(tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?) {
        self.tenantID = tenantID
        self.triggers = triggers
        self.idempotency = idempotency
    }
}

public enum AcceptOutcome: Sendable {
    case accepted([TriggerReceipt])
    case replayed([TriggerReceipt])
}

/// A topic fan-out job: the event, the topic, and how far through the members it has got.
public struct FanoutJob: Sendable, Hashable {
    public var id: Int64
    public var tenantID: String
    public var eventID: String
    public var topicRowID: Int64
    /// The last subscriber row number planned; members are walked in row order.
    public var cursor: Int64

    public init(id: Int64, tenantID: String, eventID: String, topicRowID: Int64, cursor: Int64) {
        self.id = id
        self.tenantID = tenantID
        self.eventID = eventID
        self.topicRowID = topicRowID
        self.cursor = cursor
    }
}

/// How far one chunk moved a fan-out job.
public struct FanoutProgress: Sendable, Hashable {
    public var planned: Int
    public var finished: Bool

    public init(planned: Int, finished: Bool) {
        self.planned = planned
        self.finished = finished
    }
}

/// Which messages a claim may take.
public enum ClaimScope: Sendable, Hashable {
    /// Critical messages only: the lane held back so a backlog never delays an emergency.
    case criticalOnly
    /// Everything due, most urgent first.
    case all
}

/// The event a claimed message belongs to, loaded once per batch.
public struct EventContext: Sendable {
    public var id: String
    public var tenantID: String
    public var tenantName: String
    public var type: String
    public var payload: [String: JSONValue]
    public var createdAt: Date

    public init(id: String, tenantID: String, tenantName: String, type: String, payload: [String: JSONValue], createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// A message a dispatcher holds under lease, with what it needs to render and deliver it.
public struct ClaimedMessage: Sendable {
    public var rowID: Int64
    public var tenantID: String
    public var eventID: String
    public var channel: ChannelKind
    public var priority: Priority
    /// Attempts so far, including this one.
    public var attempt: Int
    public var subscriber: Subscriber
    /// Set on a digest's own message: it is rendered from the digest's items, not from its event alone.
    public var digestID: Int64?

    public init(
        rowID: Int64, tenantID: String, eventID: String, channel: ChannelKind, priority: Priority, attempt: Int, subscriber: Subscriber,
        digestID: Int64? = nil
    ) {
        self.digestID = digestID
        self.rowID = rowID
        self.tenantID = tenantID
        self.eventID = eventID
        self.channel = channel
        self.priority = priority
        self.attempt = attempt
        self.subscriber = subscriber
    }
}

/// A batch of claimed messages and their events.
public struct ClaimedBatch: Sendable {
    public var messages: [ClaimedMessage]
    public var events: [String: EventContext]

    public init(messages: [ClaimedMessage], events: [String: EventContext]) {
        self.messages = messages
        self.events = events
    }
}

/// In-app content written when an in-app message is delivered into the inbox.
public struct InboxContent: Sendable, Hashable {
    public var title: String
    public var body: String
    public var actionURL: String?

    public init(title: String, body: String, actionURL: String?) {
        self.title = title
        self.body = body
        self.actionURL = actionURL
    }
}

/// The result of one delivery attempt, as the store records it.
public struct DeliveryOutcome: Sendable {
    public var rowID: Int64
    /// The new state: `sent`, `delivered`, `failed`, `dead_lettered`, or `queued` for a retry.
    public var status: MessageStatus
    public var reason: String?
    /// For a retry: when to try again.
    public var retryAt: Date?
    public var attempt: DeliveryAttempt
    public var inbox: InboxContent?
    /// The try does not count against the message's attempts (the provider was unreachable).
    public var refundsAttempt: Bool

    public init(
        rowID: Int64, status: MessageStatus, reason: String?, retryAt: Date?, attempt: DeliveryAttempt, inbox: InboxContent?,
        refundsAttempt: Bool = false
    ) {
        self.rowID = rowID
        self.status = status
        self.reason = reason
        self.retryAt = retryAt
        self.attempt = attempt
        self.inbox = inbox
        self.refundsAttempt = refundsAttempt
    }
}

/// Filters for the activity log.
public struct MessageQuery: Sendable, Hashable {
    public var eventID: String?
    public var subscriberID: String?
    public var channel: ChannelKind?
    public var status: MessageStatus?
    public var since: Date?
    public var until: Date?
    public var cursor: Int64?
    public var limit: Int

    public init(
        eventID: String? = nil, subscriberID: String? = nil, channel: ChannelKind? = nil, status: MessageStatus? = nil, since: Date? = nil,
        until: Date? = nil, cursor: Int64? = nil, limit: Int = 50
    ) {
        self.eventID = eventID
        self.subscriberID = subscriberID
        self.channel = channel
        self.status = status
        self.since = since
        self.until = until
        self.cursor = cursor
        self.limit = limit
    }
}

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

/// Work waiting, for readiness checks and operators.
public struct QueueDepth: Sendable, Hashable, Codable {
    public var byPriority: [String: Int]
    public var fanoutJobs: Int

    public init(byPriority: [String: Int], fanoutJobs: Int) {
        self.byPriority = byPriority
        self.fanoutJobs = fanoutJobs
    }

    enum CodingKeys: String, CodingKey {
        case byPriority = "by_priority"
        case fanoutJobs = "fanout_jobs"
    }
}
