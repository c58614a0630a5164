import Foundation

/// A validated trigger ready to be stored: its event type is resolved and its payload checked.
public struct PreparedTrigger: Sendable {
    public var eventID: String
    public var trigger: Trigger
    public var eventType: EventType
    public var expiresAt: Date
    /// The files stored with the event, in the same transaction: the event type's, then the trigger's,
    /// fetched and checked.
    public var attachments: [EmailAttachment]
    /// Delivers the event's in-app messages due now as they are planned; nil leaves them to the dispatcher.
    public var inApp: InAppComposer?

    public init(eventID: String, trigger: Trigger, eventType: EventType, expiresAt: Date, attachments: [EmailAttachment] = []) {
        self.eventID = eventID
        self.trigger = trigger
        self.eventType = eventType
        self.expiresAt = expiresAt
        self.attachments = attachments
    }
}

extension PreparedTrigger {
    /// The event as its templates see it, as it is written.
    func context(tenantID: String, tenantName: String, createdAt: Date) -> EventContext {
        EventContext(id: eventID, tenantID: tenantID, tenantName: tenantName, type: eventType.key, payload: trigger.payload, createdAt: createdAt)
    }
}
