import Foundation

/// Turns recipients of one event into messages, one per recipient and channel, each queued or
/// suppressed with its reason. Pure: the store calls it inside the transaction that writes the result.
public struct MessagePlanner: Sendable {
    public var eventType: EventType
    public var preferences: PreferenceResolver
    /// The tenant's email settings, for its allowed recipient domains.
    public var email: EmailSettings
    /// Channels on which the tenant itself names a destination (its chat webhooks), so a subscriber
    /// without an address of their own is still reached there.
    public var tenantDestinations: Set<ChannelKind>
    /// When the event's messages are due (now, or its send time): quiet hours are judged at that moment.
    public var dueAt: Date?
    /// The event's digest key (``DigestSpec/digestKey(payload:)``), for an event type with a digest.
    public var digestKey: String?
    /// Where in-app messages due now are delivered as they are written (``composing(_:event:now:)``).
    private(set) var inApp: InAppPlanning?

    public init(
        eventType: EventType, preferences: PreferenceResolver, email: EmailSettings = EmailSettings(), tenantDestinations: Set<ChannelKind> = [],
        dueAt: Date? = nil, digestKey: String? = nil
    ) {
        self.digestKey = digestKey
        self.eventType = eventType
        self.preferences = preferences
        self.email = email
        self.tenantDestinations = tenantDestinations
        self.dueAt = dueAt
    }

    /// The messages of `recipients`, one per channel; none for an event type with a workflow, whose
    /// runs plan each step's messages as they reach it (``WorkflowStepper``).
    public func plan(_ recipients: [RecipientRecord]) -> [PlannedMessage] {
        guard eventType.workflow == nil else { return [] }
        var planned: [PlannedMessage] = []
        planned.reserveCapacity(recipients.count * eventType.channels.count)
        for recipient in recipients {
            for channel in eventType.channels {
                planned.append(plan(recipient, channel))
            }
        }
        if let inApp { inApp.composer.compose(&planned, recipients: recipients, event: inApp.event, dueAt: dueAt ?? inApp.now, now: inApp.now) }
        return planned
    }

    /// This planner, rendering the in-app messages due at `now` so they are written as delivered; with
    /// no composer, as it was.
    func composing(_ composer: InAppComposer?, event: EventContext, now: Date) -> MessagePlanner {
        var planner = self
        planner.inApp = composer.map { InAppPlanning(composer: $0, event: event, now: now) }
        return planner
    }

    func plan(_ recipient: RecipientRecord, _ channel: ChannelKind) -> PlannedMessage {
        let row = recipient.rowID
        let decision = preferences.resolve(eventType: eventType, channel: channel, subscriberRules: recipient.rules)
        if !decision.enabled {
            let reason: SuppressionReason = decision.source == .unsubscribed ? .unsubscribed : .preference
            return PlannedMessage(subscriberRowID: row, channel: channel, status: .suppressed, reason: reason)
        }
        if Self.ownAddressDisabled(recipient.subscriber, for: channel)
            || !Self.hasAddress(recipient.subscriber, for: channel) && !tenantDestinations.contains(channel)
        {
            return PlannedMessage(subscriberRowID: row, channel: channel, status: .suppressed, reason: .noAddress)
        }
        if channel == .email, let address = recipient.subscriber.email, !email.allowsRecipient(address) {
            return PlannedMessage(subscriberRowID: row, channel: channel, status: .suppressed, reason: .recipientNotAllowed)
        }
        var queued = PlannedMessage(subscriberRowID: row, channel: channel, status: .queued, reason: nil)
        queued.heldUntil = quietHoursRelease(recipient.subscriber, channel)
        let digest =
            eventType.digest ?? preferences.requestedDigest(eventType: eventType, channel: channel, subscriberRules: recipient.rules)
        if let digest, eventType.priority != .critical, let dueAt {
            let due = queued.heldUntil ?? dueAt
            queued.digestKey = digestKey ?? ""
            let flush = digest.flushTime(firstItemAt: due, timeZone: Self.timeZone(of: recipient.subscriber)) ?? due
            // A digest that would close inside the subscriber's quiet hours waits for them to end, like any message.
            queued.digestFlushAt = quietHoursRelease(recipient.subscriber, channel, at: flush) ?? flush
        }
        return queued
    }

    static func timeZone(of subscriber: Subscriber) -> TimeZone {
        subscriber.timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }

    /// When a non-critical message due during the subscriber's quiet hours may go: the end of the
    /// window on their own clock. Critical messages are never held.
    func quietHoursRelease(_ subscriber: Subscriber, _ channel: ChannelKind, at date: Date? = nil) -> Date? {
        guard eventType.priority != .critical, let due = date ?? dueAt, let quiet = subscriber.quietHours, quiet.applies(to: channel) else {
            return nil
        }
        return quiet.release(after: due, timeZone: Self.timeZone(of: subscriber))
    }

    /// Whether the subscriber's own address on the channel was turned off by Herald (a `webhook_url` that
    /// answered `410 Gone`). Their messages are then not redirected to the tenant's destinations: the
    /// subscriber chose where they go.
    static func ownAddressDisabled(_ subscriber: Subscriber, for channel: ChannelKind) -> Bool {
        channel == .webhook && subscriber.webhookDisabledReason != nil
    }

    /// Whether the subscriber can be reached on the channel at all. In-app always can.
    static func hasAddress(_ subscriber: Subscriber, for channel: ChannelKind) -> Bool {
        switch channel {
        case .inApp: return true
        case .email: return !(subscriber.email ?? "").isEmpty
        case .sms: return !(subscriber.phone ?? "").isEmpty
        case .webhook: return subscriber.webhookURL != nil
        case .chat: return subscriber.data?["chat_webhook_url"]?.stringValue != nil
        // Devices come and go between planning and sending; the push channel looks them up as it sends, and a
        // subscriber with none left is suppressed then with reason `no_address`.
        case .push: return true
        }
    }
}
