import Herald
import HTTPTypes
import Hummingbird

/// CORS for the inbox endpoints, so a tenant's web app on its own domain can show the inbox.
///
/// An origin is allowed when the tenant named by the request's subscriber token lists it (see
/// `/v1/settings/cors`). The answer then carries `Access-Control-Allow-Origin` with that origin;
/// otherwise it carries none and the browser keeps the answer from the page. Error answers are
/// covered too, so an app can read why its token was refused.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let engine: HeraldEngine

    static let allowedMethods = "GET, POST, PUT, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type, Last-Event-ID"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ProblemDetails.from(error).response()
        }
        // The tenant comes from the token itself; a missing or bad token falls back to "any tenant
        // allows this origin", which only makes the 401 readable.
        let token = request.bearerToken ?? request.uri.queryParameters.get("token")
        let tenantID = token.flatMap { engine.verifySubscriberToken($0)?.tenantID }
        if await engine.corsAllows(origin: origin, tenantID: tenantID) {
            response.headers[.accessControlAllowOrigin] = origin
        }
        response.headers[.vary] = "Origin"
        return response
    }

    /// Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`). Preflights carry no
    /// credentials, so any tenant's listing of the origin admits it; the real request is then checked
    /// against its own tenant.
    static func preflight(engine: HeraldEngine) -> @Sendable (Request, HeraldRequestContext) async throws -> Response {
        { request, _ in
            var headers = HTTPFields()
            headers[.vary] = "Origin"
            if let origin = request.headers[.origin], await engine.corsAllows(origin: origin, tenantID: nil) {
                headers[.accessControlAllowOrigin] = origin
                headers[.accessControlAllowMethods] = allowedMethods
                headers[.accessControlAllowHeaders] = allowedHeaders
                headers[.accessControlMaxAge] = "600"
            }
            return Response(status: .noContent, headers: headers)
        }
    }
}
