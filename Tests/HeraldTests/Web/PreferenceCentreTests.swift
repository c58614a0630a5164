import Foundation
import Herald
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Preference centre API and quiet hours", .dropsPostgresSchemas)
struct PreferenceCentreTests {
    @Test(
        "a subscriber token reads event types by category with each channel's state, and critical types are not editable",
        arguments: StoreBackend.available)
    func grouped(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Prefs")
            #expect(
                try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["locale": "fr", "timezone": "Europe/Paris"]).status == .created)
            let token = try await engine.issueSubscriberToken(tenantID: tenantID, subscriberID: "ana").token
            let centre = try await api.send(.get, "/v1/inbox/preferences", auth: token)
            #expect(centre.status == .ok)
            #expect(centre["subscriber_id"] == "ana")
            #expect(centre["timezone"] == "Europe/Paris")
            #expect(centre["locale"] == "fr")
            #expect(centre["quiet_hours"] == .null)
            let categories = centre["categories"]?.arrayElements ?? []
            #expect(categories.compactMap { $0["key"]?.stringValue } == ["estate", "issues", "scheduling"])
            let estate = categories.first?["event_types"]?.arrayElements ?? []
            let emergency = try #require(estate.first { $0["key"] == "emergency_alert" })
            #expect(emergency["critical"] == true)
            #expect(
                emergency["channels"]?.arrayElements.allSatisfy { $0["editable"] == false && $0["enabled"] == true && $0["source"] == "critical" }
                    == true)
            let newsletter = try #require(estate.first { $0["key"] == "newsletter" })
            let inApp = newsletter["channels"]?.arrayElements.first { $0["channel"] == "in_app" }
            #expect(inApp?["enabled"] == false)
            #expect(inApp?["source"] == "event_type")
            #expect(inApp?["editable"] == true)
        }
    }

    @Test(
        "changes merge into the subscriber's rules and show at once in the tenant API; refusals name the field and write nothing",
        arguments: StoreBackend.available)
    func update(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Prefs")
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["name": "Ana"])
            let token = try await engine.issueSubscriberToken(tenantID: tenantID, subscriberID: "ana").token
            let off = try await api.send(
                .put, "/v1/inbox/preferences", auth: token,
                json: ["rules": [["event_type": "announcement_posted", "channel": "email", "enabled": false]]])
            #expect(off.status == .ok)
            let second = try await api.send(
                .put, "/v1/inbox/preferences", auth: token, json: ["rules": [["event_type": "payment_due", "channel": "in_app", "enabled": false]]])
            #expect(second.status == .ok)
            let tenantView = try await api.send(.get, "/v1/subscribers/ana/preferences", auth: key)
            let rules = tenantView["rules"]?.arrayElements ?? []
            #expect(rules.count == 2, "merged, not replaced: \(rules)")
            let effective = tenantView["effective"]?.arrayElements.first { $0["event_type"] == "announcement_posted" && $0["channel"] == "email" }
            #expect(effective?["enabled"] == false)
            #expect(effective?["source"] == "subscriber")
            #expect(tenantView["preferences_url"]?.stringValue?.contains("/preferences?token=") == true)

            let refusals: [(JSONValue, String)] = [
                (["rules": [["event_type": "emergency_alert", "channel": "email", "enabled": false]]], "rules[0].enabled"),
                (["rules": [["event_type": "nope", "channel": "email", "enabled": false]]], "rules[0].event_type"),
                (["rules": [["event_type": "newsletter", "channel": "sms", "enabled": false]]], "rules[0].channel"),
                (["rules": [["event_type": "newsletter", "channel": "pigeon", "enabled": false]]], "rules[0].channel"),
                (["timezone": "Mars/Olympus"], "timezone"),
                (["quiet_hours": ["start": "25:00", "end": "07:00"]], "quiet_hours.start"),
                (["quiet_hours": ["start": "22:00", "end": "22:00"]], "quiet_hours.end"),
                (["quiet_hours": ["start": "22:00"]], "quiet_hours.end"),
                (["rules": [["event_type": "newsletter", "channel": "email", "enabled": false]], "timezone": "Nowhere"], "timezone"),
            ]
            for (body, field) in refusals {
                let reply = try await api.send(.put, "/v1/inbox/preferences", auth: token, json: body)
                #expect(reply.status == .unprocessableContent, "\(body)")
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect(reply["field"]?.stringValue == field, "\(body): \(reply.text)")
            }
            let unchanged = try await api.send(.get, "/v1/subscribers/ana/preferences", auth: key)
            #expect(unchanged["rules"]?.arrayElements.count == 2, "a refused change writes nothing")
            // Turning a critical type on (it is on) is harmless.
            let on = try await api.send(
                .put, "/v1/inbox/preferences", auth: token, json: ["rules": [["event_type": "emergency_alert", "channel": "email", "enabled": true]]])
            #expect(on.status == .ok)
        }
    }

    @Test("quiet hours and time zone: set by the subscriber or the tenant, kept when absent, cleared by null", arguments: StoreBackend.available)
    func quietHours(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Prefs")
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["name": "Ana"])
            let token = try await engine.issueSubscriberToken(tenantID: tenantID, subscriberID: "ana").token
            let set = try await api.send(
                .put, "/v1/inbox/preferences", auth: token,
                json: ["timezone": "America/New_York", "quiet_hours": ["start": "22:00", "end": "07:00", "channels": ["email", "sms"]]])
            #expect(set.status == .ok)
            #expect(set["quiet_hours"]?["start"] == "22:00")
            var subscriber = try await api.send(.get, "/v1/subscribers/ana", auth: key)
            #expect(subscriber["timezone"] == "America/New_York")
            #expect(subscriber["quiet_hours"] == ["start": "22:00", "end": "07:00", "channels": ["email", "sms"]])
            let stored = try await engine.subscriber(tenantID: tenantID, id: "ana")
            #expect(stored.quietHours == QuietHours(start: "22:00", end: "07:00", channels: [.email, .sms]))

            // The tenant API: an update without quiet_hours keeps them; quiet_hours replaces; null clears.
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["name": "Ana B"])
            subscriber = try await api.send(.get, "/v1/subscribers/ana", auth: key)
            #expect(subscriber["quiet_hours"]?["start"] == "22:00")
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["quiet_hours": ["start": "13:00", "end": "14:00"]])
            subscriber = try await api.send(.get, "/v1/subscribers/ana", auth: key)
            #expect(subscriber["quiet_hours"] == ["start": "13:00", "end": "14:00"])
            let bad = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["quiet_hours": ["start": "1pm", "end": "14:00"]])
            #expect(bad.status == .unprocessableContent)
            #expect(bad["field"] == "quiet_hours.start")
            let badChannel = try await api.send(
                .put, "/v1/subscribers/ana", auth: key, json: ["quiet_hours": ["start": "13:00", "end": "14:00", "channels": ["fax"]]])
            #expect(badChannel.status == .unprocessableContent)
            #expect(badChannel["field"]?.stringValue?.hasPrefix("quiet_hours.channels") == true, "\(badChannel.text)")
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["quiet_hours": .null])
            subscriber = try await api.send(.get, "/v1/subscribers/ana", auth: key)
            #expect(subscriber["quiet_hours"] == nil)
            // In bulk and inline in a trigger too.
            let bulk = try await api.send(
                .post, "/v1/subscribers/bulk", auth: key, json: ["subscribers": [["id": "bo", "quiet_hours": ["start": "23:00", "end": "06:30"]]]])
            #expect(bulk.status == .ok)
            #expect(try await engine.subscriber(tenantID: tenantID, id: "bo").quietHours?.end == "06:30")
            // The subscriber clears them from the preference centre.
            let clear = try await api.send(.put, "/v1/inbox/preferences", auth: token, json: ["quiet_hours": .null])
            #expect(clear["quiet_hours"] == .null)
        }
    }

    @Test("a preference link opens a page whose token reaches preferences only; a bad link changes nothing", arguments: StoreBackend.available)
    func preferenceLink(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Maple <Court>")
            _ = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["locale": "fr-CA"])
            let url = engine.preferencesURL(tenantID: tenantID, subscriberID: "ana")
            let path = String(url.dropFirst(engine.configuration.publicBaseURL.count))
            let page = try await api.send(.get, path)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.headers[WebHeader.xFrameOptions] == "DENY")
            #expect(page.headers[WebHeader.referrerPolicy] == "no-referrer")
            #expect(page.text.contains("<html lang=\"fr\">"))
            #expect(page.text.contains("Maple &lt;Court&gt;"))
            #expect(page.text.contains("<script src=\"/embed/herald.js\" defer></script>"))
            let marker = "<herald-preferences token=\""
            let start = try #require(page.text.range(of: marker)).upperBound
            let token = String(page.text[start...].prefix { $0 != "\"" })
            #expect(engine.verifySubscriberToken(token)?.scope == .preferences)

            #expect(try await api.send(.get, "/v1/inbox/preferences", auth: token).status == .ok)
            for inboxPath in ["/v1/inbox", "/v1/inbox/count", "/v1/inbox/stream"] {
                let refused = try await api.send(.get, inboxPath, auth: token)
                #expect(refused.status == .forbidden, "\(inboxPath)")
            }
            #expect(try await api.send(.post, "/v1/inbox/read-all", auth: token).status == .forbidden)

            // Altered, foreign (an unsubscribe token) and missing links.
            let unsubscribe = engine.unsubscribeURL(tenantID: tenantID, subscriberID: "ana", eventType: "newsletter")
            let unsubscribeToken = try #require(URLComponents(string: unsubscribe)?.queryItems?.first?.value)
            for bad in [path + "x", "/preferences?token=\(unsubscribeToken)", "/preferences"] {
                let reply = try await api.send(.get, bad)
                #expect(reply.status == .badRequest, "\(bad)")
                #expect(!reply.text.contains("<herald-preferences"))
            }
            // The unsubscribe page links to the preference centre.
            let unsubscribePath = String(unsubscribe.dropFirst(engine.configuration.publicBaseURL.count))
            let confirmation = try await api.send(.get, unsubscribePath, headers: [.accept: "text/html"])
            #expect(confirmation.status == .ok)
            let linkStart = try #require(confirmation.text.range(of: "href=\"/preferences?token=")).lowerBound
            let linked = String(confirmation.text[linkStart...].dropFirst(6).prefix { $0 != "\"" })
            #expect(linked == path)

            _ = try await api.send(.delete, "/v1/subscribers/ana", auth: key)
            #expect(try await api.send(.get, path).status == .notFound)
        }
    }

    @Test("the inbox CORS preflight allows PUT for the preference centre", arguments: StoreBackend.available)
    func preflight(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Prefs")
            _ = try await api.send(.put, "/v1/settings/cors", auth: key, json: ["allowed_origins": ["https://app.example.com"]])
            let reply = try await api.send(
                .options, "/v1/inbox/preferences", headers: [.origin: "https://app.example.com", .accessControlRequestMethod: "PUT"])
            #expect(reply.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(reply.headers[.accessControlAllowMethods]?.contains("PUT") == true)
        }
    }
}
