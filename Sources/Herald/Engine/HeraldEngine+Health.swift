import Foundation

extension HeraldEngine {
    /// Whether this process is ready for traffic in `role`: the database answers (with the queue's depth), and a
    /// role that runs the dispatcher has seen its heartbeat within three poll intervals (at least five seconds),
    /// so a dispatcher stuck behind a hung database or a dead lane takes the node out of rotation.
    public func readiness(role: NodeRole) async -> Readiness {
        var readiness = Readiness(
            ready: true, role: role.rawValue, database: "ok",
            dispatcher: role.runsWorkers ? "ok" : "not running in this process (role \(role.rawValue))")
        do {
            try await store.ping()
            readiness.queue = try await store.queueDepth(now: clock.now())
        } catch {
            readiness.ready = false
            readiness.database = "unreachable: \(error)"
        }
        if role.runsWorkers {
            let allowed = max(5, configuration.dispatch.pollIntervalSeconds * 3)
            if let last = dispatcherHeartbeat.last, Date().timeIntervalSince(last) <= allowed {
                readiness.dispatcher = "ok"
            } else {
                readiness.ready = false
                readiness.dispatcher = dispatcherHeartbeat.last == nil ? "not started" : "stalled"
            }
        }
        return readiness
    }
}
