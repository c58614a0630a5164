import Foundation

extension HeraldEngine {
    /// The tenant's delivery figures over the last `window` seconds.
    public func stats(tenantID: String, window: TimeInterval, now: Date = Date()) async throws -> DeliveryStats {
        let from = now.addingTimeInterval(-window)
        let (counts, latencies) = try await store.deliveryStats(tenantID: tenantID, since: from)
        var stats = DeliveryStats(
            window: .init(from: from, to: now, seconds: Seconds(clamping: window).wholeSeconds), counts: counts, sortedLatenciesMs: latencies)
        stats.emailFeedback = .init(try await store.emailFeedbackCounts(tenantID: tenantID, since: from))
        stats.emailTracking = try await store.emailEngagementCounts(tenantID: tenantID, since: from)
        return stats
    }

    /// The Prometheus exposition, with the stored-state gauges (queue depth, open circuits) read now.
    public func metricsExposition() async throws -> String {
        let queue = try await store.queueDepth(now: Date())
        let http = circuits.snapshot().map { (server: $0.key, open: $0.state.name != "closed") }
        metrics.refresh(queue: queue, circuits: (await emailChannel?.circuits() ?? []) + http)
        metrics.refreshLiveInbox(connections: inboxHub.connectionCount)
        return metrics.exposition()
    }
}
