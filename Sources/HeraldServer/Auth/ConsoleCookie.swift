import Foundation
import Herald
import HTTPTypes
import Hummingbird

/// The admin console's session cookie and the checks that keep other sites from using it.
///
/// The cookie holds only a random session id: `HttpOnly` (no script reads it), `SameSite=Strict` (no
/// other site's request carries it), `Path=/`, and `Secure` with the `__Host-` prefix whenever Herald
/// is reached over HTTPS. The tenant key itself is sent once, in the sign-in form's body.
enum ConsoleCookie {
    /// Over HTTPS: a `__Host-` cookie, which browsers bind to this exact host and to HTTPS.
    static let secureName = "__Host-herald_console"
    /// Over plain HTTP (a development server on localhost), where `Secure` cookies would be dropped.
    static let plainName = "herald_console"

    static func sessionID(in request: Request) -> String? {
        let cookies = request.cookies
        return cookies[secureName]?.value ?? cookies[plainName]?.value
    }

    /// Whether the browser reached Herald over HTTPS: directly behind a TLS-terminating proxy that says
    /// so, or because the configured public URL is HTTPS.
    static func isSecure(_ request: Request, engine: HeraldEngine) -> Bool {
        if request.headers[.xForwardedProto]?.lowercased() == "https" { return true }
        return engine.configuration.email.publicURL?.lowercased().hasPrefix("https://") == true
    }

    static func setCookie(sessionID: String, secure: Bool) -> String {
        let name = secure ? secureName : plainName
        let lifetime = ConsoleSessions.lifetimeSeconds
        return "\(name)=\(sessionID); Path=/; Max-Age=\(lifetime); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func clearCookies(secure: Bool) -> [String] {
        var cookies = ["\(plainName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"]
        if secure { cookies.append("\(secureName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure") }
        return cookies
    }
}

/// Cross-site request forgery protection for everything a console session may change.
///
/// A state-changing request authenticated by the cookie must repeat the session's CSRF token in
/// `X-CSRF-Token` (the console's script does; a form on another site cannot know it), and must not
/// come from another site by the browser's own account (`Origin`, `Sec-Fetch-Site`).
enum ConsoleCSRF {
    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    /// Refuses a request whose token is missing or wrong, or that a browser marks as cross-site.
    static func check(_ request: Request, session: ConsoleSession, presented: String?, engine: HeraldEngine) throws {
        guard !isCrossSite(request, engine: engine) else {
            throw refusal("the request came from another site", field: "Origin", reason: "is not this console's origin")
        }
        guard let presented, ConstantTime.equals(presented, session.csrfToken) else {
            throw refusal(
                "a console request that changes something must carry the session's CSRF token in X-CSRF-Token", field: "X-CSRF-Token",
                reason: "is missing or does not match this console session")
        }
    }

    /// True when the browser says a page of another origin made the request. `Sec-Fetch-Site` (sent by
    /// current browsers, and untouched by proxies) decides when present; otherwise `Origin` must name
    /// the host the request was sent to (or the forwarded host, or the configured public URL). A request
    /// with neither (curl, a script) is not cross-site by this test; the CSRF token still applies.
    static func isCrossSite(_ request: Request, engine: HeraldEngine) -> Bool {
        if let site = request.headers[.secFetchSite]?.lowercased() { return site != "same-origin" && site != "none" }
        guard let origin = request.headers[.origin] else { return false }
        guard let url = URL(string: origin), let originHost = url.host else { return true }
        let originAuthority = (url.port.map { "\(originHost):\($0)" } ?? originHost).lowercased()
        var accepted = [request.head.authority, request.headers[.xForwardedHost]].compactMap { $0?.lowercased() }
        if let publicURL = engine.configuration.email.publicURL.flatMap(URL.init(string:)), let host = publicURL.host {
            accepted.append((publicURL.port.map { "\(host):\($0)" } ?? host).lowercased())
        }
        return !accepted.contains(originAuthority)
    }

    static func refusal(_ detail: String, field: String, reason: String) -> ProblemDetails {
        ProblemDetails(
            type: "csrf-refused", title: "Cross-site request refused", status: .forbidden, detail: detail, errors: [FieldError(field, reason)])
    }
}
