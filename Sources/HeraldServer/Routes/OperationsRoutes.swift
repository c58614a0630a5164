import Foundation
import Herald
import Hummingbird

/// Liveness, readiness and the API description.
struct OperationsRoutes {
    let engine: HeraldEngine
    /// This node's role, shown by `/readyz` so a load balancer's view of the cluster is easy to read. A role
    /// that runs the dispatcher is ready only while the dispatcher's heartbeat is recent.
    let role: NodeRole

    struct Readiness: Encodable {
        var ready: Bool
        var role: String
        var database: String
        var dispatcher: String
        var queue: QueueDepth?
    }

    func register(on router: Router<HeraldRequestContext>) {
        router.get("healthz") { _, _ in
            JSONResponse.make(["status": "ok"])
        }
        router.get("readyz") { _, _ in
            var readiness = Readiness(
                ready: true, role: role.rawValue, database: "ok",
                dispatcher: role.runsWorkers ? "ok" : "not running in this process (role \(role.rawValue))")
            do {
                try await engine.store.ping()
                readiness.queue = try await engine.queueDepth()
            } catch {
                readiness.ready = false
                readiness.database = "unreachable: \(error)"
            }
            if role.runsWorkers {
                let allowed = max(5, engine.configuration.dispatch.pollIntervalSeconds * 3)
                if let last = engine.dispatcherHeartbeat.last, Date().timeIntervalSince(last) <= allowed {
                    readiness.dispatcher = "ok"
                } else {
                    readiness.ready = false
                    readiness.dispatcher = engine.dispatcherHeartbeat.last == nil ? "not started" : "stalled"
                }
            }
            return JSONResponse.make(readiness, status: readiness.ready ? .ok : .serviceUnavailable)
        }
        // Prometheus text exposition. Open like /healthz: it holds no tenant's data, only process-wide figures.
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: try await engine.metricsExposition())))
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }
}
