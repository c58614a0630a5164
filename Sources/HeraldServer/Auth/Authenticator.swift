import Foundation
import Herald
import HTTPTypes
import Hummingbird

/// The one place that decides who a request is and whether it may do what it asks.
///
/// ``principal(of:)`` resolves the request's credential (the operator key, a tenant API key or any of the
/// signed tokens as `Authorization: Bearer`; a subscriber token as `?token=`; the console's session cookie)
/// to a ``Principal``, and ``authorize(_:needs:request:csrfToken:)`` compares the principal's scopes with what
/// the route, stream or WebSocket command needs. HTTP routes reach it through ``AccessControlMiddleware``;
/// the WebSocket upgrade and each WebSocket command call it directly.
///
/// - No credential, or one that is not valid (unknown, revoked, expired, altered, or a subscriber token
///   whose subscriber is gone): 401.
/// - A valid credential whose kind does not grant the scope: 403 `insufficient-scope`, saying what it may do.
struct Authenticator: Sendable {
    let engine: HeraldEngine

    /// Resolves the request's credential and refuses it unless it grants all of `needed`.
    func authorize(_ request: Request, needs needed: AccessScope, csrfToken: String? = nil) async throws -> Principal {
        if needed.contains(.operator), engine.configuration.adminKey?.isEmpty ?? true {
            throw HeraldError.forbidden("operator routes are disabled: set HERALD_ADMIN_KEY to enable them")
        }
        guard let principal = try await principal(of: request, needs: needed) else {
            throw HeraldError.unauthorized("this needs \(Self.whatToSend(needed))")
        }
        try await authorize(principal, needs: needed, request: request, csrfToken: csrfToken)
        return principal
    }

    /// The check for a principal resolved earlier (each command of an open WebSocket): the scope, and the
    /// conditions of its kind (the subscriber still exists, the request budget, a console session's CSRF token).
    func authorize(_ principal: Principal, needs needed: AccessScope, request: Request? = nil, csrfToken: String? = nil) async throws {
        guard principal.scopes.isSuperset(of: needed) else {
            let missing = needed.subtracting(principal.scopes)
            throw ProblemDetails(
                type: "insufficient-scope", title: "The credential does not reach this", status: .forbidden,
                detail: "a \(principal.kind) may do: \(principal.scopes); this needs: \(missing), which takes \(Self.whatToSend(needed))")
        }
        switch principal.kind {
        case .tenantKey:
            if let wait = engine.requestLimiter.check(tenantID: principal.tenant!.id) {
                throw HeraldError.tooManyRequests("this API key is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
            }
        case .consoleSession:
            let session = principal.consoleSession!
            if let request, ConsoleCSRF.changesState(request.method) {
                try ConsoleCSRF.check(request, session: session, presented: csrfToken, engine: engine)
            }
            // A console session spends its tenant's request budget like the key it was opened with.
            if let wait = engine.requestLimiter.check(tenantID: session.tenant.id) {
                throw HeraldError.tooManyRequests("this tenant is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
            }
        case .subscriberToken, .preferencesToken:
            let claims = principal.subscriber!
            if let wait = engine.requestLimiter.check(tenantID: claims.tenantID, subscriberID: claims.subscriberID) {
                throw HeraldError.tooManyRequests(
                    "this subscriber token is over its request limit; retry after the Retry-After seconds", retryAfter: wait)
            }
            guard try await engine.isCurrent(claims) else {
                throw HeraldError.unauthorized(
                    "the subscriber this token was issued to no longer exists (deleted, or replaced by a new subscriber of the same id): "
                        + "obtain a new token from POST /v1/subscribers/{id}/token")
            }
        case .operatorKey, .preferenceLinkToken, .unsubscribeToken:
            break
        }
    }

    /// The request's credential as a principal; nil when it carries none; 401 for one that is not valid.
    /// `needed` only words the refusal.
    func principal(of request: Request, needs needed: AccessScope) async throws -> Principal? {
        if let bearer = request.bearerToken {
            guard let principal = try await principal(bearer: bearer) else {
                throw HeraldError.unauthorized("the credential sent is unknown, revoked, expired or altered; this needs \(Self.whatToSend(needed))")
            }
            return principal
        }
        if request.headers[.authorization] != nil {
            throw HeraldError.unauthorized("send the credential as Authorization: Bearer <credential>; this needs \(Self.whatToSend(needed))")
        }
        if let token = request.queryToken {
            // API keys never travel in URLs (they would land in logs); only the signed tokens do.
            guard let principal = signedToken(token) else {
                throw HeraldError.unauthorized("the token is invalid or expired; this needs \(Self.whatToSend(needed))")
            }
            return principal
        }
        if let sessionID = ConsoleCookie.sessionID(in: request) {
            guard let session = try await ConsoleSessions(engine: engine).session(id: sessionID) else {
                throw HeraldError.unauthorized("the console session has ended: sign in again at /console")
            }
            return Principal(kind: .consoleSession, tenant: session.tenant, consoleSession: session)
        }
        return nil
    }

    private func principal(bearer: String) async throws -> Principal? {
        if let adminKey = engine.configuration.adminKey, !adminKey.isEmpty, ConstantTime.equals(bearer, adminKey) {
            return Principal(kind: .operatorKey)
        }
        if bearer.hasPrefix(APIKeys.prefix) {
            return try await engine.tenant(forAPIKey: bearer).map { Principal(kind: .tenantKey, tenant: $0) }
        }
        return signedToken(bearer)
    }

    /// A subscriber token, or an email link's token sent where a credential goes (which is then refused with
    /// a 403 saying what a link's token is for, rather than a puzzling 401).
    private func signedToken(_ token: String) -> Principal? {
        if let claims = engine.verifySubscriberToken(token) { return Principal(kind: claims.kind, subscriber: claims) }
        if engine.unsubscribeTokens.verify(token) != nil { return Principal(kind: .unsubscribeToken) }
        if engine.preferenceLinks.verify(token) != nil { return Principal(kind: .preferenceLinkToken) }
        return nil
    }

    /// "a tenant API key (Authorization: Bearer hk_…) or a console session (sign in at /console)".
    static func whatToSend(_ needed: AccessScope) -> String {
        let kinds = CredentialKind.granting(needed)
        guard !kinds.isEmpty else { return "a credential no kind grants" }
        return kinds.map { "a \($0) (\(howToSend($0)))" }.joined(separator: " or ")
    }

    static func howToSend(_ kind: CredentialKind) -> String {
        switch kind {
        case .operatorKey: "Authorization: Bearer <HERALD_ADMIN_KEY>"
        case .tenantKey: "Authorization: Bearer hk_…"
        case .consoleSession: "its cookie, after signing in at /console"
        case .subscriberToken: "from POST /v1/subscribers/{id}/token, as Authorization: Bearer or ?token="
        case .preferencesToken: "given by the page behind an email's preference link"
        case .preferenceLinkToken: "the token of an email's /preferences link"
        case .unsubscribeToken: "the token of an email's /unsubscribe link"
        }
    }
}
