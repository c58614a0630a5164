import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// The admin console at `/console`: a sign-in form that takes a tenant API key in its body, a session
/// cookie from then on, and one page whose script works the tenant API. These routes serve HTML and
/// assets, so they are not in the OpenAPI document; the API calls the console makes are.
struct ConsoleRoutes {
    let engine: HeraldEngine
    static let script = WebAsset.script("web/console.js")
    static let styles = WebAsset.styleSheet("web/console.css")

    /// The pages, assets, sign-in and sign-out, for anyone: without a session they show the sign-in form.
    func registerPages(on router: Router<HeraldRequestContext>) {
        router.get("console") { request, _ in
            if let id = ConsoleCookie.sessionID(in: request), let session = try await ConsoleSessions(engine: engine).session(id: id) {
                return WebPage.response(html: ConsolePage.app(session))
            }
            return WebPage.response(html: ConsolePage.signIn())
        }
        router.get("console/console.js") { request, _ in Self.script.response(to: request) }
        router.get("console/console.css") { request, _ in Self.styles.response(to: request) }

        router.post("console/sign-in") { request, context in
            // A page on another site must not sign a browser in to someone else's tenant either.
            guard !ConsoleCSRF.isCrossSite(request, engine: engine) else {
                return WebPage.response(html: ConsolePage.signIn(error: "Sign in from this console's own page."), status: .forbidden)
            }
            let form = try await Self.form(request, context: context)
            guard let key = form["key"], !key.isEmpty else {
                return WebPage.response(html: ConsolePage.signIn(error: "Enter a tenant API key."), status: .unprocessableContent)
            }
            guard let (id, _) = try await ConsoleSessions(engine: engine).open(apiKey: key) else {
                return WebPage.response(html: ConsolePage.signIn(error: "That key is unknown or revoked."), status: .unauthorized)
            }
            var headers = HTTPFields()
            headers[.location] = "/console"
            headers[.setCookie] = ConsoleCookie.setCookie(sessionID: id, secure: ConsoleCookie.isSecure(request, engine: engine))
            return WebPage.response(html: "", status: .seeOther, headers: headers)
        }

        router.post("console/sign-out") { request, context in
            let form = try await Self.form(request, context: context)
            if let id = ConsoleCookie.sessionID(in: request), let session = try await ConsoleSessions(engine: engine).session(id: id) {
                try ConsoleCSRF.check(request, session: session, presented: request.headers[.csrfToken] ?? form["csrf_token"], engine: engine)
                try await ConsoleSessions(engine: engine).close(id: id)
            }
            var headers = HTTPFields()
            headers[.location] = "/console"
            for cookie in ConsoleCookie.clearCookies(secure: ConsoleCookie.isSecure(request, engine: engine)) {
                headers.append(HTTPField(name: .setCookie, value: cookie))
            }
            return WebPage.response(html: "", status: .seeOther, headers: headers)
        }
    }

    /// The rendered email of a draft, as a document for the editor's sandboxed frame: the form the console
    /// posts into the frame carries the draft, and the CSRF token since it cannot set headers. Declared
    /// `.credential(.console)`: only a console session reaches it, and the access check reads the form's token.
    func registerPreview(on group: RouterGroup<HeraldRequestContext>) {
        group.post("preview") { request, context in
            let form = try await Self.form(request, context: context)
            guard let session = context.principal?.consoleSession else {
                throw HeraldError.unauthorized("the console session has ended: sign in again at /console")
            }
            let html: String
            do {
                let key = form["key"] ?? ""
                let payload = try form["payload"].flatMap { $0.isEmpty ? nil : try JSONCoding.decoder.decode([String: JSONValue].self, from: Data($0.utf8)) } ?? [:]
                let locale = form["locale"].flatMap { $0.isEmpty ? nil : $0 }
                let rendered: [String: RenderedContent]
                if let text = form["event_type"], !text.isEmpty {
                    var draft = try JSONCoding.requestDecoder.decode(EventType.self, from: Data(text.utf8))
                    if draft.key.isEmpty { draft.key = key }
                    rendered = try await engine.preview(tenantID: session.tenant.id, draft: draft, payload: payload, locale: locale).channels
                } else {
                    rendered = try await engine.preview(tenantID: session.tenant.id, key: key, payload: payload, locale: locale).channels
                }
                html = rendered[ChannelKind.email.rawValue]?.parts["html"] ?? ConsolePage.previewMessage()
            } catch {
                let problem = ProblemDetails.from(error)
                html = ConsolePage.previewMessage(error: problem.detail)
            }
            return Self.previewDocument(html)
        }
    }

    /// An email rendered for the preview frame. `sandbox` (in the CSP and on the frame) keeps any script
    /// in it from running, and it may be framed only by the console itself; inline styles are allowed
    /// because email layouts are made of them.
    static func previewDocument(_ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] =
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; frame-ancestors 'self'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "SAMEORIGIN"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func form(_ request: Request, context: HeraldRequestContext) async throws -> FormFields {
        let body = try await request.body.collect(upTo: context.bodyLimit)
        return FormFields(body: body, contentType: request.headers[.contentType])
    }
}
