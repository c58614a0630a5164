import Herald
import Hummingbird

/// Authenticates tenant calls by `Authorization: Bearer <API key>`. An unknown or revoked key is a 401;
/// nothing past this point runs without a tenant.
struct TenantAuthMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let engine: HeraldEngine

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = request.bearerToken else {
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

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.bearerToken ?? request.uri.queryParameters.get("token") else {
            throw HeraldError.unauthorized("a subscriber token is required: obtain one from POST /v1/subscribers/{id}/token")
        }
        guard let claims = engine.verifySubscriberToken(token) else {
            throw HeraldError.unauthorized("the subscriber token is invalid or expired")
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
