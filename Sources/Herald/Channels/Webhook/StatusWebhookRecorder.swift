import Foundation
import Logging

/// Queues delivery-status webhooks (`message.sent`, `message.delivered`, `message.failed`,
/// `message.read`, `message.bounced`, `message.complained`, `message.opened`, `message.clicked`) for the status endpoints that subscribe to them, once the change is committed.
///
/// Writing to the durable queue, rather than posting from here, keeps slow or failing receivers off the
/// dispatcher's path and lets each event be retried until its receiver takes it
/// (``StatusWebhookSender``). A tenant with no status endpoint costs one cached settings read per batch.
public final class StatusWebhookRecorder: DeliveryObserver {
    let settings: WebhookSettingsStore
    let store: any Store
    /// Rung when something is queued, so the sender does not wait for its next look.
    let wakeup: Wakeup
    let logger: Logger

    public init(settings: WebhookSettingsStore, store: any Store, wakeup: Wakeup, logger: Logger) {
        self.settings = settings
        self.store = store
        self.wakeup = wakeup
        self.logger = logger
    }

    public func recorded(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async {
        let now = Date()
        var messages: [Int64: ClaimedMessage] = [:]
        var deliveries: [StatusWebhookDelivery] = []
        for outcome in outcomes {
            guard let event = DeliveryStatusEvent(outcome: outcome.status) else { continue }
            if messages.isEmpty { messages = Dictionary(batch.messages.map { ($0.rowID, $0) }, uniquingKeysWith: { first, _ in first }) }
            guard let message = messages[outcome.rowID], let context = batch.events[message.eventID],
                let endpoints = await endpoints(tenantID: message.tenantID, for: event), !endpoints.isEmpty
            else { continue }
            var data: [String: JSONValue] = [
                "message_id": .string(Message.publicID(message.rowID)),
                "event_id": .string(context.id),
                "event_type": .string(context.type),
                "tenant_id": .string(message.tenantID),
                "subscriber_id": .string(message.subscriber.id),
                "channel": .string(message.channel.rawValue),
                "priority": .string(message.priority.rawValue),
                "status": .string(outcome.status.rawValue),
                "attempt": .number(Double(outcome.attempt.number)),
            ]
            if let reason = outcome.reason { data["reason"] = .string(reason) }
            if let detail = outcome.attempt.detail { data["detail"] = .string(detail) }
            deliveries += Self.deliveries(event: event, tenantID: message.tenantID, endpoints: endpoints, timestamp: now, data: data)
        }
        await enqueue(deliveries, now: now)
    }

    public func inboxChanged(_ change: InboxChange) async {
        guard change.kind == .read || change.kind == .readAll,
            let endpoints = await endpoints(tenantID: change.tenantID, for: .read), !endpoints.isEmpty
        else { return }
        let read: [Message]
        do {
            // The messages whose read time is this change's: the one read, or every one a read-all touched.
            read = try await store.messagesRead(tenantID: change.tenantID, subscriberID: change.subscriberID, at: change.at)
        } catch {
            logger.error("could not look up read messages for status webhooks", metadata: ["error": "\(error)"])
            return
        }
        var deliveries: [StatusWebhookDelivery] = []
        for message in read where change.kind == .readAll || message.id == change.messageID {
            let data: [String: JSONValue] = [
                "message_id": .string(message.id),
                "event_id": .string(message.eventId),
                "event_type": .string(message.eventType),
                "tenant_id": .string(change.tenantID),
                "subscriber_id": .string(message.subscriberId),
                "channel": .string(message.channel.rawValue),
                "priority": .string(message.priority.rawValue),
                "status": .string(message.status.rawValue),
                "read_at": .string(Timestamp.format(change.at)),
            ]
            deliveries += Self.deliveries(event: .read, tenantID: change.tenantID, endpoints: endpoints, timestamp: change.at, data: data)
        }
        await enqueue(deliveries, now: Date())
    }

    /// `message.bounced` or `message.complained` for feedback just recorded against a sent email.
    public func emailFeedback(_ feedback: EmailFeedback, message: BouncedMessage, suppressed: Bool) async {
        let event = feedback.kind.statusEvent
        guard let endpoints = await endpoints(tenantID: message.tenantID, for: event), !endpoints.isEmpty else { return }
        var data: [String: JSONValue] = [
            "message_id": .string(Message.publicID(message.rowID)),
            "event_id": .string(message.eventID),
            "event_type": .string(message.eventType),
            "tenant_id": .string(message.tenantID),
            "subscriber_id": .string(message.subscriberID),
            "channel": .string(message.channel.rawValue),
            "priority": .string(message.priority.rawValue),
            "status": .string(message.status.rawValue),
            "feedback": .string(feedback.kind.rawValue),
            "address": .string(feedback.address),
            "suppressed": .bool(suppressed),
        ]
        if let status = feedback.status { data["report_status"] = .string(status) }
        if let detail = feedback.detail { data["detail"] = .string(detail) }
        let deliveries = Self.deliveries(event: event, tenantID: message.tenantID, endpoints: endpoints, timestamp: feedback.createdAt, data: data)
        await enqueue(deliveries, now: Date())
    }

    /// `message.opened` for the first open of a tracked email (later opens are counted, not announced), or
    /// `message.clicked` for each click, with the link's URL.
    public func emailEngaged(_ engagement: EmailEngagement, event: DeliveryStatusEvent, url: String? = nil, at now: Date) async {
        guard event == .clicked || (event == .opened && engagement.openCount == 1),
            let endpoints = await endpoints(tenantID: engagement.tenantID, for: event), !endpoints.isEmpty
        else { return }
        var data: [String: JSONValue] = [
            "message_id": .string(Message.publicID(engagement.rowID)),
            "event_id": .string(engagement.eventID),
            "event_type": .string(engagement.eventType),
            "tenant_id": .string(engagement.tenantID),
            "subscriber_id": .string(engagement.subscriberID),
            "channel": .string(ChannelKind.email.rawValue),
            "priority": .string(engagement.priority.rawValue),
            "status": .string(engagement.status.rawValue),
            "open_count": .number(Double(engagement.openCount)),
            "click_count": .number(Double(engagement.clickCount)),
        ]
        if let openedAt = engagement.openedAt { data["opened_at"] = .string(Timestamp.format(openedAt)) }
        if let clickedAt = engagement.clickedAt { data["clicked_at"] = .string(Timestamp.format(clickedAt)) }
        if let url { data["url"] = .string(url) }
        await enqueue(Self.deliveries(event: event, tenantID: engagement.tenantID, endpoints: endpoints, timestamp: now, data: data), now: Date())
    }

    /// `workflow.completed` for each run that ended.
    public func workflowsFinished(_ runs: [FinishedRun]) async {
        var deliveries: [StatusWebhookDelivery] = []
        let now = Date()
        for run in runs {
            guard let endpoints = await endpoints(tenantID: run.tenantID, for: .workflowCompleted), !endpoints.isEmpty else { continue }
            let data: [String: JSONValue] = [
                "event_id": .string(run.eventID),
                "event_type": .string(run.eventType),
                "tenant_id": .string(run.tenantID),
                "subscriber_id": .string(run.subscriberID),
                "status": .string(run.status.rawValue),
                "outcome": .string(run.outcome),
            ]
            deliveries += Self.deliveries(event: .workflowCompleted, tenantID: run.tenantID, endpoints: endpoints, timestamp: now, data: data)
        }
        await enqueue(deliveries, now: now)
    }

    private func endpoints(tenantID: String, for event: DeliveryStatusEvent) async -> [WebhookEndpoint]? {
        do {
            return try await settings.cached(tenantID: tenantID).statusEndpoints(for: event)
        } catch {
            logger.error("could not read webhook settings for status webhooks", metadata: ["tenant": "\(tenantID)", "error": "\(error)"])
            return nil
        }
    }

    /// One queued copy per endpoint, all with the same `webhook-id`: it names the status event, and a
    /// receiver behind several endpoints can tell they are one.
    static func deliveries(
        event: DeliveryStatusEvent, tenantID: String, endpoints: [WebhookEndpoint], timestamp: Date, data: [String: JSONValue]
    ) -> [StatusWebhookDelivery] {
        let body = String(decoding: WebhookEnvelope(type: event.rawValue, timestamp: timestamp, data: data).bytes, as: UTF8.self)
        let id = Identifier.make("whevt", at: timestamp)
        return endpoints.map { StatusWebhookDelivery(tenantID: tenantID, url: $0.url, webhookID: id, event: event, body: body) }
    }

    private func enqueue(_ deliveries: [StatusWebhookDelivery], now: Date) async {
        guard !deliveries.isEmpty else { return }
        do {
            try await store.enqueueStatusWebhooks(deliveries, now: now)
            wakeup.ring()
        } catch {
            // The outcome itself is committed; only its announcement is lost. Logged so an operator can tell.
            logger.error("could not queue status webhooks", metadata: ["count": "\(deliveries.count)", "error": "\(error)"])
        }
    }
}
