import Foundation

/// The in-app messages a planning transaction delivered as it wrote them, to announce once it has
/// committed (never before: a rolled-back write must not reach a live inbox).
struct InAppAnnouncement: Sendable {
    var deliveries: [InAppDelivery]
    var announce: @Sendable ([InAppDelivery]) async -> Void

    /// What `steps` delivered; nil when nothing was. `partitioned` stores key a row by its event too
    /// (``InAppDelivery/partitionKey``).
    init?(_ steps: PlanningSteps, partitioned: Bool) {
        guard let composer = steps.events.lazy.compactMap(\.inApp).first?.composer, !steps.delivered.isEmpty else { return nil }
        deliveries = steps.delivered.compactMap { rowID, row in
            let event = steps.events[row.event]
            guard let inApp = event.inApp, let composed = row.inbox else { return nil }
            return InAppDelivery(
                rowID: rowID, partitionKey: partitioned ? event.eventPK : nil, event: inApp.event, subscriber: composed.subscriber,
                priority: event.plan.priority, content: composed.content, deliveredAt: inApp.now)
        }
        // One engine plans with one announcer: the batch's events all carry the same.
        announce = composer.announce
    }

    /// Several transactions' announcements merged (a group commit's requests), or nil.
    init?(merging parts: [InAppAnnouncement]) {
        guard let first = parts.first else { return nil }
        deliveries = parts.flatMap(\.deliveries)
        announce = first.announce
    }

    func send() async { await announce(deliveries) }
}
