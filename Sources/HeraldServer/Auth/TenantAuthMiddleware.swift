import Herald
import Hummingbird

/// Authenticates tenant calls by `Authorization: Bearer <API key>`, or by the admin console's session
/// cookie, in which case a request that changes anything must also carry the session's CSRF token
/// (`X-CSRF-Token`) and must not come from another site. An unknown or revoked key, or an ended
/// session, is a 401; nothing past this point runs without a tenant.
struct TenantAuthMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let engine: HeraldEngine

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = request.bearerToken else {
            if let sessionID = ConsoleCookie.sessionID(in: request), request.headers[.authorization] == nil {
                guard let session = try await engine.consoleSession(id: sessionID) else {
                    throw HeraldError.unauthorized("the console session has ended: sign in again at /console")
                }
                if ConsoleCSRF.changesState(request.method) {
                    try ConsoleCSRF.check(request, session: session, presented: request.headers[.csrfToken], engine: engine)
                }
                // A console session spends its tenant's request budget like the key it was opened with.
                if let wait = engine.requestLimiter.check(tenantID: session.tenant.id) {
                    throw HeraldError.tooManyRequests("this tenant is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
                }
                var context = context
                context.tenant = session.tenant
                context.logger[metadataKey: "tenant"] = .string(session.tenant.id)
                return try await next(request, context)
            }
            throw HeraldError.unauthorized("an API key is required: send Authorization: Bearer <key>")
        }
        guard let tenant = try await engine.tenant(forAPIKey: key) else {
            throw HeraldError.unauthorized("the API key is unknown or revoked")
        }
        if let wait = engine.requestLimiter.check(tenantID: tenant.id) {
            throw HeraldError.tooManyRequests("this API key is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
        }
        var context = context
        context.tenant = tenant
        context.logger[metadataKey: "tenant"] = .string(tenant.id)
        return try await next(request, context)
    }
}

/// Authenticates operator calls (creating tenants) with the key from `HERALD_ADMIN_KEY`.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let adminKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let adminKey, !adminKey.isEmpty else {
            throw HeraldError.forbidden("operator routes are disabled: set HERALD_ADMIN_KEY to enable them")
        }
        guard let presented = request.bearerToken else {
            throw HeraldError.unauthorized("the operator key is required: send Authorization: Bearer <HERALD_ADMIN_KEY>")
        }
        guard ConstantTime.equals(presented, adminKey) else { throw HeraldError.unauthorized("the operator key is wrong") }
        return try await next(request, context)
    }
}

/// Authenticates inbox calls by a subscriber token (`Authorization: Bearer <token>`, or `?token=` for
/// clients such as EventSource that cannot set headers).
struct SubscriberAuthMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let engine: HeraldEngine
    /// Narrower tokens these routes also take: the inbox takes only full tokens; the preference routes
    /// also take the preferences-only tokens of the page behind an email's preference link.
    var alsoAccepts: Set<SubscriberTokens.Scope> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.bearerToken ?? request.uri.queryParameters.get("token") else {
            throw HeraldError.unauthorized("a subscriber token is required: obtain one from POST /v1/subscribers/{id}/token")
        }
        guard let claims = engine.verifySubscriberToken(token) else {
            throw HeraldError.unauthorized("the subscriber token is invalid or expired")
        }
        if let scope = claims.scope, !alsoAccepts.contains(scope) {
            throw HeraldError.forbidden("this token opens the \(scope.rawValue) page only; the inbox needs a token from POST /v1/subscribers/{id}/token")
        }
        if let wait = engine.requestLimiter.check(tenantID: claims.tenantID, subscriberID: claims.subscriberID) {
            throw HeraldError.tooManyRequests(
                "this subscriber token is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
        }
        var context = context
        context.subscriber = claims
        return try await next(request, context)
    }
}

extension Request {
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}

/// Comparison whose time does not depend on where the strings differ.
enum ConstantTime {
    static func equals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
