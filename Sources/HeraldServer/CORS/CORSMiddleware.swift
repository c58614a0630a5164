import Herald
import HTTPTypes
import Hummingbird

/// CORS for the inbox endpoints, so a tenant's web app on its own domain can show the inbox.
///
/// An answer to a request with a valid subscriber token carries `Access-Control-Allow-Origin` only when
/// the token's tenant lists the origin (see `/v1/settings/cors`); otherwise none, and the browser keeps the
/// answer from the page. Nothing else depends on any tenant's list: a preflight (which carries no
/// credentials) and an answer to a request without a valid subscriber token (a 401 or 403 the app should
/// be able to read) are the same for every origin, so no caller can probe which origins some tenant allows.
/// The inbox script calls with `credentials: "omit"`, so allowing any origin there hands out nothing: the
/// real answer is still read only by the token's tenant's origins.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let engine: HeraldEngine

    static let allowedMethods = "GET, POST, PUT, DELETE, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type, Last-Event-ID"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ProblemDetails.from(error).response()
        }
        let token = request.bearerToken ?? request.queryToken
        if let claims = token.flatMap(engine.verifySubscriberToken) {
            if await engine.corsAllows(origin: origin, tenantID: claims.tenantID) {
                response.headers[.accessControlAllowOrigin] = origin
            }
        } else {
            // No subscriber token, so no tenant to ask and nothing of one in the answer: readable by any origin.
            response.headers[.accessControlAllowOrigin] = origin
        }
        response.headers[.vary] = "Origin"
        return response
    }

    /// Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`) the same for every origin: it
    /// carries no credentials, so it cannot say which tenant is asking, and must not reveal which origins
    /// any tenant allows. The real request is then answered for its own token's tenant.
    @Sendable static func preflight(_ request: Request, _ context: HeraldRequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.vary] = "Origin"
        if let origin = request.headers[.origin] {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowMethods] = allowedMethods
            headers[.accessControlAllowHeaders] = allowedHeaders
            headers[.accessControlMaxAge] = "600"
        }
        return Response(status: .noContent, headers: headers)
    }
}
