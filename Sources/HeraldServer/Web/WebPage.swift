import HTTPTypes
import Hummingbird
import NIOCore

/// The headers every HTML page Herald serves carries: a Content Security Policy that allows only
/// Herald's own scripts and styles (no inline script, no other origin), no framing by other sites,
/// no MIME sniffing, no caching of pages that may show a tenant's data, and no referrer leaking a
/// signed link to wherever the page links.
enum WebPage {
    /// For the console and the preference page. `connect-src 'self'` keeps a script from sending data
    /// anywhere else; `frame-src 'self'` admits only the console's sandboxed email preview.
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "frame-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static func response(html: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        apply(to: &headers, policy: contentSecurityPolicy)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func apply(to headers: inout HTTPFields, policy: String) {
        headers[.contentSecurityPolicy] = policy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        headers[.crossOriginOpenerPolicy] = "same-origin"
        headers[.cacheControl] = "no-store"
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
    static let csrfToken = Self("X-CSRF-Token")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
}
