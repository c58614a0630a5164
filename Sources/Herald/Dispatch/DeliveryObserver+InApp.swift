import Foundation

extension [InAppDelivery] {
    /// Tells the observers and the metrics of in-app messages planning delivered, as the dispatcher tells
    /// them of a batch it recorded: the same live inbox push, status webhooks and counters follow.
    func announce(to observers: [any DeliveryObserver], metrics: HeraldMetrics?) async {
        guard !isEmpty else { return }
        var events: [String: EventContext] = [:]
        var messages: [ClaimedMessage] = []
        var outcomes: [DeliveryOutcome] = []
        messages.reserveCapacity(count)
        outcomes.reserveCapacity(count)
        for delivery in self {
            events[delivery.event.id] = delivery.event
            messages.append(
                ClaimedMessage(
                    rowID: delivery.rowID, tenantID: delivery.event.tenantID, eventID: delivery.event.id, channel: .inApp, priority: delivery.priority,
                    attempt: 1, subscriber: delivery.subscriber, partitionKey: delivery.partitionKey))
            var outcome = DeliveryOutcome(
                rowID: delivery.rowID, status: .delivered, reason: nil, retryAt: nil,
                attempt: DeliveryAttempt.inboxWrite(at: delivery.deliveredAt), inbox: delivery.content)
            outcome.partitionKey = delivery.partitionKey
            outcomes.append(outcome)
            metrics?.recordOutcome(channel: .inApp, priority: delivery.priority, status: .delivered, attemptDurationMs: 0, attemptOutcome: .delivered)
        }
        let batch = ClaimedBatch(messages: messages, events: events)
        for observer in observers { await observer.recorded(outcomes, batch: batch) }
    }
}
