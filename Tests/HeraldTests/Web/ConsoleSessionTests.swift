import Foundation
import Herald
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Admin console sessions, CSRF and page headers", .dropsPostgresSchemas)
struct ConsoleSessionTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static func post(_ api: APIClient, _ path: String, body: String, headers: HTTPFields = form) async throws -> APIClient.Reply {
        let response = try await api.client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        return APIClient.Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    /// Signs in through the form; returns the `Cookie` header value and the page's CSRF token.
    static func signIn(_ api: APIClient, key: String, headers: HTTPFields = form) async throws -> (cookie: String, csrf: String) {
        let reply = try await post(api, "/console/sign-in", body: "key=\(key)", headers: headers)
        #expect(reply.status == .seeOther)
        let setCookie = try #require(reply.headers[.setCookie])
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await api.send(.get, "/console", headers: [.cookie: cookie])
        let marker = "name=\"herald-csrf-token\" content=\""
        let start = try #require(page.text.range(of: marker)).upperBound
        let csrf = String(page.text[start...].prefix { $0 != "\"" })
        return (cookie, csrf)
    }

    @Test(
        "sign-in takes the key in the body, sets an HTTP-only SameSite=Strict cookie, and redirects to a URL without it",
        arguments: StoreBackend.available)
    func signInCookie(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Console")
            let reply = try await Self.post(api, "/console/sign-in", body: "key=\(key)")
            #expect(reply.status == .seeOther)
            #expect(reply.headers[.location] == "/console")
            let cookie = try #require(reply.headers[.setCookie])
            #expect(cookie.hasPrefix("herald_console="))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] { #expect(cookie.contains(attribute), "\(cookie)") }
            #expect(!cookie.contains("Secure"))
            #expect(!cookie.contains(key))

            // Behind TLS: Secure, and a __Host- cookie bound to this host.
            let secure = try await Self.post(
                api, "/console/sign-in", body: "key=\(key)",
                headers: [.contentType: "application/x-www-form-urlencoded", WebHeader.xForwardedProto: "https"])
            let secureCookie = try #require(secure.headers[.setCookie])
            #expect(secureCookie.hasPrefix("__Host-herald_console="))
            #expect(secureCookie.contains("; Secure"))

            let wrong = try await Self.post(api, "/console/sign-in", body: "key=hk_wrong")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains("That key is unknown or revoked."))

            // Another site's page cannot sign a browser in.
            let crossSite = try await Self.post(
                api, "/console/sign-in", body: "key=\(key)",
                headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden)
            #expect(crossSite.headers[.setCookie] == nil)
        }
    }

    @Test(
        "the cookie authenticates the tenant API; changes need the CSRF token, or are refused with 403 problem+json",
        arguments: StoreBackend.available)
    func csrf(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Console")
            let (cookie, csrf) = try await Self.signIn(api, key: key)
            #expect(csrf.count >= 40)

            let read = try await api.send(.get, "/v1/event-types/newsletter", headers: [.cookie: cookie])
            #expect(read.status == .ok)
            let definition = try #require(read.json)

            let cases: [(HTTPRequest.Method, String, JSONValue?)] = [
                (.put, "/v1/event-types/newsletter", definition), (.delete, "/v1/event-types/newsletter", nil),
                (.post, "/v1/messages/msg_1/retry", nil), (.put, "/v1/subscribers/ana", ["name": "Ana"]),
                (.post, "/v1/event-types/newsletter/preview", ["payload": [:]]),
            ]
            for (method, path, body) in cases {
                for token: String? in [nil, "wrong", String(csrf.dropLast()) + "x"] {
                    var headers: HTTPFields = [.cookie: cookie]
                    if let token { headers[WebHeader.csrfToken] = token }
                    let reply = try await api.send(method, path, json: body, headers: headers)
                    #expect(reply.status == .forbidden, "\(method) \(path) with \(token ?? "no token"): \(reply.status)")
                    #expect(reply.headers[.contentType] == "application/problem+json")
                    #expect(reply["type"] == "urn:herald:problem:csrf-refused")
                    #expect(reply["field"] == "X-CSRF-Token")
                }
            }
            #expect(try await api.send(.get, "/v1/event-types/newsletter", auth: key).status == .ok, "nothing was deleted")

            // The right token from this origin works; the right token from another site does not.
            let put = try await api.send(.put, "/v1/subscribers/ana", json: ["name": "Ana"], headers: [.cookie: cookie, WebHeader.csrfToken: csrf])
            #expect(put.status == .created)
            let crossSite = try await api.send(
                .put, "/v1/subscribers/ana", json: ["name": "Ana"],
                headers: [.cookie: cookie, WebHeader.csrfToken: csrf, WebHeader.secFetchSite: "cross-site"])
            #expect(crossSite.status == .forbidden)
            #expect(crossSite["field"] == "Origin")

            // A session's token is its own.
            let (otherCookie, otherCSRF) = try await Self.signIn(api, key: key)
            #expect(otherCSRF != csrf)
            let mixed = try await api.send(
                .put, "/v1/subscribers/ana", json: ["name": "Ana"], headers: [.cookie: otherCookie, WebHeader.csrfToken: csrf])
            #expect(mixed.status == .forbidden)
        }
    }

    @Test("sign-out and key revocation end a session; an unknown cookie is a 401", arguments: StoreBackend.available)
    func sessionEnds(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Console")
            let (cookie, csrf) = try await Self.signIn(api, key: key)
            #expect(try await api.send(.get, "/v1/stats", headers: [.cookie: cookie]).status == .ok)
            let refused = try await Self.post(api, "/console/sign-out", body: "", headers: [.cookie: cookie])
            #expect(refused.status == .forbidden, "sign-out needs the CSRF token too")
            let signOut = try await Self.post(
                api, "/console/sign-out", body: "csrf_token=\(csrf)", headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"])
            #expect(signOut.status == .seeOther)
            #expect(signOut.headers[values: .setCookie].contains { $0.hasPrefix("herald_console=;") && $0.contains("Max-Age=0") })
            let after = try await api.send(.get, "/v1/stats", headers: [.cookie: cookie])
            #expect(after.status == .unauthorized)
            #expect(after["detail"]?.stringValue?.contains("sign in again") == true)
            #expect(try await api.send(.get, "/console", headers: [.cookie: cookie]).text.contains("id=\"key\""))

            // A second key's session ends when that key is revoked.
            let second = try await engine.createAPIKey(tenantID: tenantID, name: "console")
            let (secondCookie, _) = try await Self.signIn(api, key: second.key)
            #expect(try await api.send(.get, "/v1/stats", headers: [.cookie: secondCookie]).status == .ok)
            try await engine.revokeAPIKey(tenantID: tenantID, keyID: second.info.id)
            #expect(try await api.send(.get, "/v1/stats", headers: [.cookie: secondCookie]).status == .unauthorized)

            #expect(try await api.send(.get, "/v1/stats", headers: [.cookie: "herald_console=made-up"]).status == .unauthorized)
            // A bearer key still works beside (and wins over) a cookie.
            #expect(try await api.send(.get, "/v1/stats", auth: key, headers: [.cookie: "herald_console=made-up"]).status == .ok)
        }
    }

    @Test("pages carry a strict CSP, nosniff and frame protections; scripts and styles are served from the binary", arguments: StoreBackend.available)
    func pageHeaders(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Console")
            let (cookie, csrf) = try await Self.signIn(api, key: key)
            for (path, headers) in [("/console", HTTPFields()), ("/console", [.cookie: cookie])] {
                let page = try await api.send(.get, path, headers: headers)
                #expect(page.status == .ok)
                let policy = try #require(page.headers[.contentSecurityPolicy])
                for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
                    #expect(policy.contains(directive), "\(policy)")
                }
                #expect(!policy.contains("unsafe"))
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                #expect(page.headers[WebHeader.xFrameOptions] == "DENY")
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(!page.text.contains("<script>"), "no inline script")
                #expect(!page.text.contains("style="), "no inline style")
                #expect(!page.text.contains("https://"), "no external assets")
            }
            let shell = try await api.send(.get, "/console", headers: [.cookie: cookie])
            #expect(shell.text.contains("<script src=\"/console/console.js\" defer></script>"))
            #expect(!shell.text.contains(key))

            for (path, type, crossOrigin) in [
                ("/embed/herald.js", "text/javascript; charset=utf-8", true), ("/console/console.js", "text/javascript; charset=utf-8", false),
                ("/console/console.css", "text/css; charset=utf-8", false), ("/preferences/page.css", "text/css; charset=utf-8", false),
            ] {
                let asset = try await api.send(.get, path)
                #expect(asset.status == .ok, "\(path)")
                #expect(asset.headers[.contentType] == type)
                #expect(asset.headers[.xContentTypeOptions] == "nosniff")
                #expect(asset.headers[.crossOriginResourcePolicy] == (crossOrigin ? "cross-origin" : "same-origin"))
                #expect(!asset.text.contains("innerHTML"), "\(path) sets no HTML from strings")
                let etag = try #require(asset.headers[.eTag])
                #expect(try await api.send(.get, path, headers: [.ifNoneMatch: etag]).status == .notModified)
            }

            // The email preview frame: sandboxed by its own CSP, frameable only by the console, and needs the form's CSRF token.
            let body =
                "csrf_token=\(csrf)&key=newsletter&payload=" + #"{"summary":"<script>alert(1)</script>"}"#.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics)!
            let frame = try await Self.post(
                api, "/console/preview", body: body, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"])
            #expect(frame.status == .ok)
            #expect(frame.headers[.contentSecurityPolicy]?.hasPrefix("sandbox;") == true)
            #expect(frame.headers[WebHeader.xFrameOptions] == "SAMEORIGIN")
            #expect(!frame.text.contains("<script>alert(1)</script>"))
            #expect(frame.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            let noToken = try await Self.post(
                api, "/console/preview", body: "key=newsletter", headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"])
            #expect(noToken.status == .forbidden)
        }
    }
}
