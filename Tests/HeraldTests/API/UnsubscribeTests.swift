import Foundation
import Herald
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("One-click unsubscribe links", .dropsPostgresSchemas)
struct UnsubscribeTests {
    static let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
    static let announcement: JSONValue = ["title": "Lift out of service", "excerpt": "Block B lift is being repaired."]
    static let reply: JSONValue = ["author_name": "Bo", "excerpt": "Agreed", "thread_url": "https://maplecourt.example/t/1"]

    /// An engine whose email channel accepts everything, so delivered and suppressed email can be told apart.
    static func engine(on backend: StoreBackend = .sqlite) async throws -> HeraldEngine {
        try await TestEngine.make(on: backend, channels: [ScriptedChannel(kind: .email, script: [])])
    }

    /// The path and query of the subscriber's unsubscribe link, for the in-process client.
    static func link(_ engine: HeraldEngine, tenantID: String, subscriberID: String, eventType: String) -> String {
        let url = engine.unsubscribeURL(tenantID: tenantID, subscriberID: subscriberID, eventType: eventType)
        return String(url.dropFirst(engine.configuration.publicBaseURL.count))
    }

    static func token(fromLink link: String) throws -> String {
        try #require(URLComponents(string: link)?.queryItems?.first { $0.name == "token" }?.value)
    }

    /// Sends a request with a body of any content type (the API client only sends JSON).
    static func post(
        _ api: APIClient, _ path: String, body: String, contentType: String?, headers extra: HTTPFields = browser,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIClient.Reply {
        var headers = extra
        if let contentType { headers[.contentType] = contentType }
        // Not through `api.send`, which would name a JSON body's type where this test sends none on purpose.
        let response = try await api.client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        let reply = APIClient.Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        OpenAPIConformance.check(
            .init(
                method: "POST", target: path, requestContentType: contentType, requestBody: body, status: Int(reply.status.code),
                responseContentType: reply.headers[.contentType], responseBody: reply.text),
            sourceLocation: sourceLocation)
        return reply
    }

    /// The effective (enabled, source) for one event type × channel.
    static func effective(_ api: APIClient, key: String, subscriber: String, eventType: String, channel: String) async throws -> (Bool?, String?) {
        let preferences = try await api.send(.get, "/v1/subscribers/\(subscriber)/preferences", auth: key)
        guard case .array(let entries)? = preferences["effective"] else { return (nil, nil) }
        let entry = entries.first { $0["event_type"]?.stringValue == eventType && $0["channel"]?.stringValue == channel }
        guard case .bool(let enabled)? = entry?["enabled"] else { return (nil, nil) }
        return (enabled, entry?["source"]?.stringValue)
    }

    /// Triggers an event for one subscriber and waits until its email message is final.
    static func emailOutcome(
        _ api: APIClient, _ engine: HeraldEngine, key: String, type: String, to subscriber: String, payload: JSONValue = announcement
    ) async throws -> (status: String?, reason: String?) {
        let event = try await api.send(
            .post, "/v1/events", auth: key, json: ["type": .string(type), "recipients": [.string(subscriber)], "payload": payload])
        #expect(event.status == .accepted, "trigger failed: \(event.text)")
        let eventID = try #require(event["event_id"]?.stringValue)
        let path = "/v1/messages?event=\(eventID)&channel=email"
        let final = try await engine.eventually {
            let status = try await api.send(.get, path, auth: key)["data"]?.arrayFirst?["status"]?.stringValue
            return status != nil && status != "queued" && status != "sending"
        }
        #expect(final, "the email message never reached a final state")
        let message = try await api.send(.get, path, auth: key)["data"]?.arrayFirst
        return (message?["status"]?.stringValue, message?["reason"]?.stringValue)
    }

    static func expectHTMLPage(_ reply: APIClient.Reply, status: HTTPResponse.Status = .ok, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply.text.prefix(400))", sourceLocation: sourceLocation)
        #expect(reply.headers[.contentType] == "text/html; charset=utf-8", sourceLocation: sourceLocation)
        #expect(reply.headers[.location] == nil, "an unsubscribe answer must not redirect", sourceLocation: sourceLocation)
        #expect(reply.text.hasPrefix("<!doctype html>"), sourceLocation: sourceLocation)
        #expect(reply.text.contains("<meta name=\"robots\" content=\"noindex\">"), sourceLocation: sourceLocation)
        #expect(!reply.text.contains("<script"), sourceLocation: sourceLocation)
        #expect(
            !reply.text.contains("http://") && !reply.text.contains("https://"), "the page loads nothing from elsewhere",
            sourceLocation: sourceLocation)
    }

    @Test("opening the link turns off that event type's email, and the next one is suppressed as unsubscribed", arguments: StoreBackend.available)
    func linkUnsubscribesFromEventType(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Maple Court")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            #expect(try await Self.emailOutcome(api, engine, key: tenant.key, type: "announcement_posted", to: "alice").status == "sent")

            let link = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "announcement_posted")
            #expect(link.hasPrefix("/unsubscribe?token="))
            let page = try await api.send(.get, link, headers: Self.browser)
            Self.expectHTMLPage(page)
            #expect(page.text.contains("You will no longer receive <strong>New announcement</strong> emails from <strong>Maple Court</strong>."))
            #expect(page.text.contains("Management posted an announcement on the notice board."))
            #expect(page.text.contains("<form method=\"post\" action=\"\(link)&amp;scope=all\">"))
            #expect(page.text.contains("Unsubscribe from all email"))
            #expect(page.headers[.cacheControl] == "no-store")

            let (enabled, source) = try await Self.effective(
                api, key: tenant.key, subscriber: "alice", eventType: "announcement_posted", channel: "email")
            #expect(enabled == false)
            #expect(source == "unsubscribed")
            let rules = try await api.send(.get, "/v1/subscribers/alice/preferences", auth: tenant.key)["rules"]
            #expect(rules == [["event_type": "announcement_posted", "channel": "email", "enabled": false, "unsubscribed": true]])
            // In-app and other event types' email are untouched.
            #expect(
                try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "announcement_posted", channel: "in_app").0 == true)
            #expect(try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "comment_reply", channel: "email").0 == true)

            let after = try await Self.emailOutcome(api, engine, key: tenant.key, type: "announcement_posted", to: "alice")
            #expect(after.status == "suppressed")
            #expect(after.reason == "unsubscribed")
            let reply = try await Self.emailOutcome(
                api, engine, key: tenant.key, type: "comment_reply", to: "alice", payload: Self.reply)
            #expect(reply.status == "sent")

            // Opening the link again (a second click, a mail scanner) is harmless.
            Self.expectHTMLPage(try await api.send(.get, link, headers: Self.browser))
            #expect(try await api.send(.get, "/v1/subscribers/alice/preferences", auth: tenant.key)["rules"] == rules)
        }
    }

    @Test("RFC 8058 one-click POST, urlencoded or multipart, does the same", arguments: ["urlencoded", "multipart"])
    func oneClickPost(encoding: String) async throws {
        let engine = try await Self.engine()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Maple Court")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            let link = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "announcement_posted")
            let reply: APIClient.Reply
            if encoding == "urlencoded" {
                reply = try await Self.post(
                    api, link, body: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded", headers: [:])
            } else {
                let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"
                reply = try await Self.post(api, link, body: body, contentType: "multipart/form-data; boundary=XyZ", headers: [:])
            }
            Self.expectHTMLPage(reply)
            #expect(reply.text.contains("You will no longer receive <strong>New announcement</strong> emails"))

            let (enabled, source) = try await Self.effective(
                api, key: tenant.key, subscriber: "alice", eventType: "announcement_posted", channel: "email")
            #expect(enabled == false)
            #expect(source == "unsubscribed")
            #expect(try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "payment_due", channel: "email").0 == true)
            let outcome = try await Self.emailOutcome(api, engine, key: tenant.key, type: "announcement_posted", to: "alice")
            #expect(outcome.status == "suppressed")
            #expect(outcome.reason == "unsubscribed")
        }
    }

    @Test("a POST with any body, or none, is accepted", arguments: StoreBackend.available)
    func anyBody(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            let link = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "newsletter")
            for (body, type) in [
                ("", nil), ("{\"x\": 1}", "application/json"), ("\u{0}\u{1}garbage", "application/octet-stream"), ("=&&=", "text/plain"),
            ] {
                Self.expectHTMLPage(try await Self.post(api, link, body: body, contentType: type))
            }
            #expect(
                try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "newsletter", channel: "email") == (
                    false, "unsubscribed"
                ))
        }
    }

    @Test("scope=all turns off every event type's email, in the query or the form body", arguments: ["query", "form"])
    func allEmail(scopeIn place: String) async throws {
        let engine = try await Self.engine()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Maple Court")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            // A rule the subscriber set herself for one type would beat a `*` rule; the unsubscribe overrides it too.
            try await api.send(
                .patch, "/v1/subscribers/alice/preferences", auth: tenant.key,
                json: [
                    "rules": [["event_type": "comment_reply", "channel": "email", "enabled": true], ["event_type": "payment_due", "enabled": true]]
                ])
            let link = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "announcement_posted")
            let reply =
                place == "query"
                ? try await Self.post(api, link + "&scope=all", body: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded")
                : try await Self.post(api, link, body: "scope=all", contentType: "application/x-www-form-urlencoded")
            Self.expectHTMLPage(reply)
            #expect(reply.text.contains("You will no longer receive any email from <strong>Maple Court</strong>."))
            #expect(reply.text.contains("<strong>Emergency alert</strong>"), "the page names the critical types that still send")
            #expect(!reply.text.contains("<form"), "nothing wider to offer after all email")

            let preferences = try await api.send(.get, "/v1/subscribers/alice/preferences", auth: tenant.key)
            guard case .array(let entries)? = preferences["effective"] else {
                Issue.record("no effective preferences")
                return
            }
            let email = entries.filter { $0["channel"] == "email" }
            #expect(email.count > 10)
            for entry in email {
                let type = entry["event_type"]?.stringValue ?? "?"
                if ["emergency_alert", "security_breach", "shift_change_urgent"].contains(type) {
                    #expect(entry["enabled"] == true && entry["source"] == "critical", "\(type)")
                } else {
                    #expect(entry["enabled"] == false && entry["source"] == "unsubscribed", "\(type): \(entry)")
                }
            }
            #expect(entries.filter { $0["channel"] == "in_app" && $0["enabled"] == false }.allSatisfy { $0["source"] != "unsubscribed" })
            #expect(
                try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "payment_due", channel: "in_app") == (
                    true, "subscriber"
                ))

            let reply2 = try await Self.emailOutcome(
                api, engine, key: tenant.key, type: "comment_reply", to: "alice", payload: Self.reply)
            #expect(reply2.status == "suppressed")
            #expect(reply2.reason == "unsubscribed")
        }
    }

    @Test("the page's button finishes the job: GET one type, then POST the form for all", arguments: StoreBackend.available)
    func pageButton(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            let page = try await api.send(
                .get, Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "newsletter"), headers: Self.browser)
            let start = try #require(page.text.range(of: "action=\""))
            let end = try #require(page.text[start.upperBound...].firstIndex(of: "\""))
            let action = page.text[start.upperBound..<end].replacingOccurrences(of: "&amp;", with: "&")
            Self.expectHTMLPage(try await Self.post(api, action, body: "scope=all", contentType: "application/x-www-form-urlencoded"))
            #expect(
                try await Self.effective(api, key: tenant.key, subscriber: "alice", eventType: "payment_due", channel: "email") == (
                    false, "unsubscribed"
                ))
        }
    }

    @Test("forged, altered, missing and cross-tenant tokens are refused and change nothing", arguments: StoreBackend.available)
    func badTokens(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let a = try await api.createTenant("A")
            let b = try await api.createTenant("B")
            try await api.send(.put, "/v1/subscribers/alice", auth: a.key, json: ["email": "alice@example.com"])
            try await api.send(.put, "/v1/subscribers/bob", auth: b.key, json: ["email": "bob@example.com"])
            let good = try Self.token(fromLink: Self.link(engine, tenantID: a.id, subscriberID: "alice", eventType: "announcement_posted"))
            let bobs = try Self.token(fromLink: Self.link(engine, tenantID: b.id, subscriberID: "bob", eventType: "announcement_posted"))
            let parts = good.split(separator: ".").map(String.init)
            let bobParts = bobs.split(separator: ".").map(String.init)
            func flipFirst(_ text: String) -> String { (text.first == "A" ? "B" : "A") + text.dropFirst() }

            let forgedElsewhere = UnsubscribeTokens(secret: "not this server's secret").issue(
                .init(tenantID: a.id, subscriberID: "alice", eventType: "announcement_posted"))
            let invalid: [(String, String)] = [
                ("forged with another secret", "token=\(forgedElsewhere)"),
                ("signature altered", "token=\(parts[0]).\(flipFirst(parts[1]))"),
                ("body altered", "token=\(flipFirst(parts[0])).\(parts[1])"),
                ("body swapped to another tenant's subscriber", "token=\(bobParts[0]).\(parts[1])"),
                ("signature cut short", "token=\(parts[0]).\(parts[1].dropLast(4))"),
                ("no signature", "token=\(parts[0])"),
                ("garbage", "token=not-a-token"),
                ("empty", "token="),
                ("missing", ""),
            ]
            for (name, query) in invalid {
                let path = "/unsubscribe" + (query.isEmpty ? "" : "?\(query)")
                for method in [HTTPRequestMethod.get, .post] {
                    let html =
                        method == .get
                        ? try await api.send(.get, path, headers: Self.browser)
                        : try await Self.post(api, path, body: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded")
                    Self.expectHTMLPage(html, status: .badRequest)
                    #expect(html.text.contains("This unsubscribe link is not valid"), "\(name)")

                    let machine =
                        method == .get
                        ? try await api.send(.get, path)
                        : try await Self.post(
                            api, path, body: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded", headers: [.accept: "*/*"]
                        )
                    #expect(machine.status == .badRequest, "\(name) \(method)")
                    #expect(machine.headers[.contentType] == "application/problem+json", "\(name)")
                    #expect(machine["field"] == "token", "\(name)")
                    #expect(machine["errors"]?.arrayFirst?["field"] == "token", "\(name)")
                }
            }

            // A validly signed token for a subscriber the tenant does not have (Bob belongs to B) is a 404.
            let crossTenant = engine.unsubscribeTokens.issue(.init(tenantID: a.id, subscriberID: "bob", eventType: "announcement_posted"))
            let notFound = try await api.send(.get, "/unsubscribe?token=\(crossTenant)", headers: Self.browser)
            Self.expectHTMLPage(notFound, status: .notFound)
            #expect(notFound.text.contains("no longer works"))
            let notFoundJSON = try await Self.post(api, "/unsubscribe?token=\(crossTenant)", body: "", contentType: nil, headers: [:])
            #expect(notFoundJSON.status == .notFound)
            #expect(notFoundJSON.headers[.contentType] == "application/problem+json")

            for (key, subscriber) in [(a.key, "alice"), (b.key, "bob")] {
                let preferences = try await api.send(.get, "/v1/subscribers/\(subscriber)/preferences", auth: key)
                #expect(preferences["rules"] == [], "\(subscriber)'s rules changed")
                guard case .array(let entries)? = preferences["effective"] else { continue }
                #expect(entries.allSatisfy { $0["source"] != "unsubscribed" })
            }
            #expect(try await Self.emailOutcome(api, engine, key: a.key, type: "announcement_posted", to: "alice").status == "sent")
        }
    }

    @Test("critical event types are still delivered after unsubscribing from all email", arguments: StoreBackend.available)
    func criticalStillDelivered(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Maple Court")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            // Unsubscribing through an emergency alert's own link says it will still be sent.
            let emergencyLink = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "emergency_alert")
            let page = try await api.send(.get, emergencyLink, headers: Self.browser)
            Self.expectHTMLPage(page)
            #expect(page.text.contains("marked critical"))
            let link = Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "announcement_posted")
            Self.expectHTMLPage(
                try await Self.post(api, link + "&scope=all", body: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded"))

            let alert = try await Self.emailOutcome(
                api, engine, key: tenant.key, type: "emergency_alert", to: "alice", payload: ["title": "Fire in Block C", "message": "Leave now."])
            #expect(alert.status == "sent")
            #expect(alert.reason == nil)
            #expect(try await Self.emailOutcome(api, engine, key: tenant.key, type: "announcement_posted", to: "alice").reason == "unsubscribed")
        }
    }

    @Test("a tenant's own event type with an email template can be unsubscribed from", arguments: StoreBackend.available)
    func tenantEventType(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Clinic")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            let created = try await api.send(
                .put, "/v1/event-types/lab_result", auth: tenant.key,
                json: [
                    "name": "Lab result ready", "priority": "medium", "channels": ["email"],
                    "templates": ["email": ["en": ["subject": "Your result is ready", "html": "<p>Your lab result is ready.</p>"]]],
                ])
            #expect(created.status == .created || created.status == .ok, "\(created.text)")
            let page = try await api.send(
                .get, Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "lab_result"), headers: Self.browser)
            Self.expectHTMLPage(page)
            #expect(page.text.contains("<strong>Lab result ready</strong> emails from <strong>Clinic</strong>"))
            let outcome = try await Self.emailOutcome(api, engine, key: tenant.key, type: "lab_result", to: "alice", payload: [:])
            #expect(outcome.status == "suppressed")
            #expect(outcome.reason == "unsubscribed")
        }
    }

    @Test("tenant names and event type names are escaped in the page", arguments: StoreBackend.available)
    func escaping(_ backend: StoreBackend) async throws {
        let engine = try await Self.engine(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("<script>alert(\"x\")</script> & 'Sons'")
            try await api.send(.put, "/v1/subscribers/alice", auth: tenant.key, json: ["email": "alice@example.com"])
            try await api.send(
                .put, "/v1/event-types/promo", auth: tenant.key,
                json: [
                    "name": "<img src=x onerror=alert(1)>", "priority": "low", "channels": ["email"],
                    "templates": ["email": ["en": ["subject": "Offer", "html": "<p>Offer</p>"]]],
                ])
            let page = try await api.send(
                .get, Self.link(engine, tenantID: tenant.id, subscriberID: "alice", eventType: "promo"), headers: Self.browser)
            Self.expectHTMLPage(page)
            #expect(page.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Sons&#39;"))
            #expect(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!page.text.contains("<img"))
        }
    }

    @Test("the link is the public URL, /unsubscribe and a percent-safe token that verifies", arguments: StoreBackend.available)
    func linkFormat(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.email.publicURL = "https://herald.example.com/notify/" }
        let url = engine.unsubscribeURL(tenantID: "t_1", subscriberID: "flat 12/ä", eventType: "newsletter")
        #expect(url.hasPrefix("https://herald.example.com/notify/unsubscribe?token="))
        let components = try #require(URLComponents(string: url))
        let token = try #require(components.queryItems?.first { $0.name == "token" }?.value)
        #expect(url.hasSuffix(token), "a base64url token needs no escaping")
        #expect(engine.unsubscribeTokens.verify(token) == .init(tenantID: "t_1", subscriberID: "flat 12/ä", eventType: "newsletter"))
        await #expect(throws: HeraldError.invalid("token", "is not a valid unsubscribe token")) {
            try await engine.unsubscribe(token: token + "x", scope: .eventType)
        }
        await #expect(throws: HeraldError.notFound("subscriber 'flat 12/ä'")) {
            try await engine.unsubscribe(token: token, scope: .allEmail)
        }
    }
}
