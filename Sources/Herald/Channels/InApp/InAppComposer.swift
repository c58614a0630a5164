import Foundation

/// Delivers an event's in-app messages as they are planned. An in-app message needs no provider: its
/// delivery is the row that puts it in the inbox. So a message due now is rendered in the planning
/// transaction and written once, already `delivered`, instead of being inserted, claimed, rendered and
/// updated again (three writes and an attempt row: most of what an in-app message cost the database).
///
/// Only a clean first try takes this path. A message held (quiet hours, a send time, a rate limit), going
/// into a digest, or whose render fails, falls back to its template or renders an empty title, is queued
/// as before, and the dispatcher delivers or fails it with its attempt on record.
public struct InAppComposer: Sendable {
    let renderer: TemplateRenderer
    /// The event type as the catalog has it, with its templates (an event's stored plan has none).
    let eventType: EventType
    /// Told, after the planning transaction commits, which messages it delivered: for the live inbox,
    /// status webhooks and metrics, as the dispatcher tells them of what it delivers.
    let announce: @Sendable ([InAppDelivery]) async -> Void

    public init(renderer: TemplateRenderer, eventType: EventType, announce: @escaping @Sendable ([InAppDelivery]) async -> Void) {
        self.renderer = renderer
        self.eventType = eventType
        self.announce = announce
    }

    /// The inbox content of `subscriber`'s message (one of a run of the memo's event's recipients), or nil when
    /// the message must go the dispatcher's way.
    func compose(for subscriber: Subscriber, memo: TemplateContextMemo) -> ComposedInApp? {
        guard eventType.templates[.inApp] != nil,
            let content = try? renderer.render(eventType: eventType, channel: .inApp, subscriber: subscriber, memo: memo),
            content.fallbackReason == nil, InAppChannel.isDeliverable(content)
        else { return nil }
        return ComposedInApp(content: InAppChannel.inboxContent(content), subscriber: subscriber)
    }

    /// Fills in the content of each in-app message of `planned` that is due at once, untouched by quiet
    /// hours or a digest; flow control may still hold it (``FlowPlanner`` then queues it).
    func compose(_ planned: inout [PlannedMessage], recipients: [RecipientRecord], event: EventContext, dueAt: Date, now: Date) {
        guard dueAt <= now, planned.contains(where: { $0.channel == .inApp && $0.status == .queued }) else { return }
        var subscribers: [Int64: Subscriber] = [:]
        for recipient in recipients { subscribers[recipient.rowID] = recipient.subscriber }
        let memo = TemplateContextMemo(payload: event.payload, event: event)
        for index in planned.indices {
            let message = planned[index]
            guard message.channel == .inApp, message.status == .queued, message.heldUntil == nil, message.digestKey == nil,
                let subscriber = subscribers[message.subscriberRowID]
            else { continue }
            planned[index].inbox = compose(for: subscriber, memo: memo)
        }
    }
}
