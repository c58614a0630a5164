import Foundation

/// One stored event and the messages ``MessagePlanner`` made of its recipients, as ``FlowPlanner`` takes
/// them: everything flow control decides on, with no store behind it.
struct PlanningEvent: Sendable {
    var tenantID: String
    var eventPK: Int64
    /// The event's planning view of its type (``EventType/plan``): flow control and the limits in force.
    var plan: EventType
    /// When the event's messages are due: now, or its send time.
    var dueAt: Date
    var expiresAt: Date
    let messages: [PlannedMessage]
    /// The event's dedup fingerprint, for a type with dedup.
    var fingerprint: String?
    /// The workflow step these messages are sent by, from 1; 0 for an event type without a workflow.
    var step = 0
    /// For an event type with a workflow: the recipients a run starts for (their subscriber rows); the
    /// runs plan their messages step by step, so `messages` is empty.
    var workflowRuns: [Int64] = []
    /// Whether anything beyond preferences decides its messages: dedup, a digest or a rate limit, or a
    /// subscriber's own digest preference (which turns flow control on for their messages alone).
    let hasFlowControl: Bool
    /// How its in-app messages due now are delivered as they are written, when they are.
    var inApp: InAppPlanning?

    init(
        tenantID: String, eventPK: Int64, plan: EventType, payload: [String: JSONValue], dueAt: Date, expiresAt: Date,
        messages: [PlannedMessage], workflowRuns: [RecipientRecord] = [], inApp: InAppPlanning? = nil
    ) {
        self.inApp = inApp
        self.workflowRuns = plan.workflow == nil ? [] : workflowRuns.map(\.rowID)
        self.tenantID = tenantID
        self.eventPK = eventPK
        self.plan = plan
        self.dueAt = dueAt
        self.expiresAt = expiresAt
        self.messages = messages
        self.fingerprint = plan.dedup.map { $0.fingerprint(payload: payload) }
        self.hasFlowControl = plan.hasFlowControl || messages.contains { $0.digestKey != nil }
    }

    /// The rate-limit buckets covering `message`, with their limits.
    func buckets(covering message: PlannedMessage) -> [(key: String, limit: RateLimit)] {
        plan.appliedLimits.compactMap { limit in
            limit.bucketKey(tenantID: tenantID, subscriberRowID: message.subscriberRowID, eventType: plan.key, channel: message.channel)
                .map { (key: $0, limit: limit.limit) }
        }
    }
}
