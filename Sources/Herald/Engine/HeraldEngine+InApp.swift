import Foundation

extension HeraldEngine {
    /// The composer that delivers `eventType`'s in-app messages as they are planned (``InAppComposer``),
    /// or nil when it sends none, sends them through a workflow's steps, or this process runs no workers.
    func inAppComposer(for eventType: EventType) -> InAppComposer? {
        guard runsWorkers.load(ordering: .relaxed), eventType.workflow == nil, eventType.channels.contains(.inApp),
            channels.contains(where: { $0.kind == .inApp })
        else { return nil }
        return InAppComposer(renderer: renderer, eventType: eventType) { [observers, metrics] deliveries in
            await deliveries.announce(to: observers, metrics: metrics)
        }
    }

    /// The composer for a fan-out job's event, with its type's templates as the catalog has them now.
    func inAppComposer(for job: FanoutJob) async -> InAppComposer? {
        guard let key = job.eventType, let eventType = try? await catalog.eventType(tenantID: job.tenantID, key: key) else { return nil }
        return inAppComposer(for: eventType)
    }
}
