import Foundation
import Herald
import Hummingbird

/// Liveness, readiness and the API description.
struct OperationsRoutes {
    let engine: HeraldEngine
    /// This node's role, which `/readyz` answers for (``HeraldEngine/readiness(role:)``).
    let role: NodeRole

    func register(on router: Router<HeraldRequestContext>) {
        router.get("healthz") { _, _ in
            JSONResponse.make(["status": "ok"])
        }
        router.get("readyz") { _, _ in
            let readiness = await engine.readiness(role: role)
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
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: try OpenAPIDocument.yaml())))
        }
    }
}
