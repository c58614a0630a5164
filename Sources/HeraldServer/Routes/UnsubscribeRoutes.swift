import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// The unsubscribe link in every email, with no login: the signed token in the query is the authority.
///
/// `GET /unsubscribe?token=…` turns off email of the link's event type and shows a page offering to turn
/// off all email. `POST /unsubscribe?token=…` is RFC 8058 one-click (mail clients send
/// `List-Unsubscribe=One-Click`); `scope=all` in the query or form turns off every email. Both answer
/// 200 with an HTML page, never a redirect. A bad token changes nothing and answers 400.
struct UnsubscribeRoutes {
    let engine: HeraldEngine

    func register(on router: RouterGroup<HeraldRequestContext>) {
        router.get("unsubscribe") { request, context in
            try await unsubscribe(request, context: context, token: request.uri.queryParameters.get("token"), scope: .eventType)
        }
        router.post("unsubscribe") { request, context in
            // Any body is accepted: mail clients send `List-Unsubscribe=One-Click`, browsers the page's form.
            let body = (try? await request.body.collect(upTo: context.bodyLimit)) ?? ByteBuffer()
            let form = FormFields(body: body, contentType: request.headers[.contentType])
            let query = request.uri.queryParameters
            let scope: UnsubscribeScope = (query.get("scope") ?? form["scope"]) == UnsubscribeScope.allEmail.rawValue ? .allEmail : .eventType
            return try await unsubscribe(request, context: context, token: query.get("token") ?? form["token"], scope: scope)
        }
    }

    private func unsubscribe(_ request: Request, context: HeraldRequestContext, token: String?, scope: UnsubscribeScope) async throws -> Response {
        do {
            guard let token, !token.isEmpty else { throw HeraldError.invalid("token", "is required: open the whole link from the email") }
            let result = try await engine.unsubscribe(token: token, scope: scope)
            let allEmailAction = scope == .eventType ? allEmailPath(result) : nil
            return UnsubscribePage.confirmation(result, allEmailAction: allEmailAction, preferencesLink: preferencesPath(result)).response()
        } catch {
            let problem = Self.problem(for: error)
            if problem.status >= 500 {
                context.logger.error("unsubscribe failed", metadata: ["error": "\(error)"])
            }
            guard Self.acceptsHTML(request) else { throw problem }
            return UnsubscribePage.failure(status: HTTPResponse.Status(code: problem.status)).response()
        }
    }

    /// Where the page's "Unsubscribe from all email" button posts: the link from the email, as a path
    /// (a server behind a path prefix keeps its prefix), with `scope=all`.
    private func allEmailPath(_ result: UnsubscribeResult) -> String {
        let link = engine.unsubscribeURL(tenantID: result.tenantID, subscriberID: result.subscriberID, eventType: result.eventType)
        let components = URLComponents(string: link)
        let path = (components?.percentEncodedPath ?? "/unsubscribe") + "?" + (components?.percentEncodedQuery ?? "")
        return path + "&scope=" + UnsubscribeScope.allEmail.rawValue
    }

    /// The subscriber's preference centre, as a path like the form's action.
    private func preferencesPath(_ result: UnsubscribeResult) -> String {
        let link = engine.preferencesURL(tenantID: result.tenantID, subscriberID: result.subscriberID)
        let components = URLComponents(string: link)
        return (components?.percentEncodedPath ?? "/preferences") + "?" + (components?.percentEncodedQuery ?? "")
    }

    /// A bad token is the client's mistake in the link itself: 400 naming `token`, not a 422.
    static func problem(for error: any Error) -> ProblemDetails {
        if case HeraldError.invalid(let errors) = error {
            return ProblemDetails(
                type: "invalid-unsubscribe-token", title: "The unsubscribe link is not valid", status: .badRequest,
                detail: errors.map(\.description).joined(separator: "; "), errors: errors)
        }
        return ProblemDetails.from(error)
    }

    static func acceptsHTML(_ request: Request) -> Bool {
        request.headers[values: .accept].contains { $0.lowercased().contains("text/html") }
    }
}
