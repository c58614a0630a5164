import Herald
import HTTPTypes
import Hummingbird

/// Runs ``Authenticator``'s check of one ``AccessRequirement`` before the routes registered under it, and
/// hands the routes the resolved ``Principal`` in the context. ``RouteAccess`` installs it; routes never
/// add it themselves.
struct AccessControlMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let authenticator: Authenticator
    let requirement: AccessRequirement

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard case .credential(let needed) = requirement else { return try await next(request, context) }
        var request = request
        let csrfToken = try await Self.csrfToken(&request, context: context)
        var context = context
        context.principal = try await authenticator.authorize(request, needs: needed, csrfToken: csrfToken)
        if let tenant = context.principal?.tenant { context.logger[metadataKey: "tenant"] = .string(tenant.id) }
        return try await next(request, context)
    }

    /// The CSRF token a console request repeats: `X-CSRF-Token`, or the `csrf_token` field of a form the
    /// console posts into a frame (which cannot set headers). The form's body is kept for the route.
    static func csrfToken(_ request: inout Request, context: Context) async throws -> String? {
        if let header = request.headers[.csrfToken] { return header }
        guard ConsoleCSRF.changesState(request.method), request.bearerToken == nil, ConsoleCookie.sessionID(in: request) != nil,
            request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        else { return nil }
        let body = try await request.collectBody(upTo: context.bodyLimit)
        return FormFields(body: body, contentType: request.headers[.contentType])["csrf_token"]
    }
}
