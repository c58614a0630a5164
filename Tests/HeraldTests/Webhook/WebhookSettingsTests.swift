import Foundation
import Herald
import HeraldServer
import Testing

/// `GET/PUT/DELETE /v1/settings/webhook`: secrets generated, shown once and redacted after, kept when
/// sent back redacted; every bad field named in a problem document; literal private addresses refused.
@Suite("Tenant webhook settings over HTTP")
struct WebhookSettingsTests {
    @Test func aPutWithoutSecretsGeneratesThemShowsThemOnceAndKeepsThemWhenSentBackRedacted() async throws {
        let engine = try await WebhookFixtures.engine(allowPrivateNetworks: false)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Hooks")
            let empty = try await api.send(.get, "/v1/settings/webhook", auth: tenant.key)
            #expect(empty.status == .ok)
            #expect(empty.json == ["endpoints": [], "subscriber_secrets": [], "status_endpoints": []])

            let put = try await api.send(
                .put, "/v1/settings/webhook", auth: tenant.key,
                json: [
                    "endpoints": [["url": "https://hooks.example.com/herald"], ["url": "https://backup.example.com/herald"]],
                    "status_endpoints": [["url": "https://status.example.com/in", "events": ["message.failed", "message.read"]]],
                ])
            #expect(put.status == .ok, "\(put.text)")
            let primarySecret = try #require(put["endpoints"]?[0]?["secrets"]?[0]?.stringValue)
            let subscriberSecret = try #require(put["subscriber_secrets"]?[0]?.stringValue)
            for secret in [primarySecret, subscriberSecret] {
                #expect(WebhookSecret(secret) != nil && !WebhookSecret.isRedacted(secret), "the PUT answer shows a new secret in full: \(secret)")
            }
            #expect(put["endpoints"]?[0]?["circuit"] == "closed")
            #expect(put["status_endpoints"]?[0]?["deliveries"] == ["pending": 0, "delivered": 0, "failed": 0])
            #expect(primarySecret != put["endpoints"]?[1]?["secrets"]?[0]?.stringValue, "each endpoint gets its own")

            // GET shows them redacted, recognisably.
            let get = try await api.send(.get, "/v1/settings/webhook", auth: tenant.key)
            let shown = try #require(get["endpoints"]?[0]?["secrets"]?[0]?.stringValue)
            #expect(shown == String(primarySecret.prefix(12)) + "********")
            #expect(!get.text.contains(primarySecret) && !get.text.contains(subscriberSecret))

            // Sending GET's answer back changes nothing; the stored secrets are the ones shown once.
            let again = try await api.send(.put, "/v1/settings/webhook", auth: tenant.key, raw: get.text)
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.json == get.json, "kept secrets stay redacted in the answer")
            let stored = try await engine.webhookSettings(tenantID: tenant.id)
            #expect(stored.endpoints[0].secrets == [primarySecret] && stored.subscriberSecrets == [subscriberSecret])

            // Rotation: a new secret in front, the old one (redacted) behind; the answer shows only the new one.
            let rotate = try await api.send(
                .put, "/v1/settings/webhook", auth: tenant.key,
                json: ["endpoints": [["url": "https://hooks.example.com/herald", "secrets": [.string(WebhookFixtures.secret), .string(shown)]]]])
            #expect(rotate.status == .ok, "\(rotate.text)")
            #expect(rotate["endpoints"]?[0]?["secrets"] == [.string(WebhookFixtures.secret), .string(shown)])
            #expect(try await engine.webhookSettings(tenantID: tenant.id).endpoints[0].secrets == [WebhookFixtures.secret, primarySecret])
            #expect(try await engine.webhookSettings(tenantID: tenant.id).subscriberSecrets == [subscriberSecret], "left out: kept")

            let delete = try await api.send(.delete, "/v1/settings/webhook", auth: tenant.key)
            #expect(delete.status == .noContent)
            #expect(try await api.send(.get, "/v1/settings/webhook", auth: tenant.key)["endpoints"] == [])
        }
    }

    @Test func everyBadFieldIsNamedInOneProblemDocument() async throws {
        let engine = try await WebhookFixtures.engine(allowPrivateNetworks: false)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Hooks")
            let reply = try await api.send(
                .put, "/v1/settings/webhook", auth: tenant.key,
                json: [
                    "endpoints": [
                        ["url": "ftp://files.example.com", "secrets": ["not-a-secret"]],
                        ["url": "https://ok.example.com", "secrets": ["whsec_c2hvcnQ="], "events": ["message.sent"]],
                        ["url": "https://ok.example.com", "secrets": ["whsec_AbCdEf********"]],
                        ["url": "https://user:pw@hooks.example.com/x"],
                        ["url": "http://127.0.0.1:8080/hook"],
                        ["url": "http://[::1]/hook"],
                        ["url": "http://localhost/hook"],
                    ],
                    "status_endpoints": [
                        ["url": "https://status.example.com"], ["url": "https://status2.example.com", "events": ["message.teleported"]],
                    ],
                ])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.headers[.contentType] == "application/problem+json")
            // An unknown event name is a decoding problem, reported first and alone; fix it and the rest follow.
            #expect(reply["errors"]?[0]?["field"] == "status_endpoints[1].events[0]", "\(reply.text)")

            let second = try await api.send(
                .put, "/v1/settings/webhook", auth: tenant.key,
                json: [
                    "endpoints": [
                        ["url": "ftp://files.example.com", "secrets": ["not-a-secret"]],
                        ["url": "https://ok.example.com", "secrets": ["whsec_c2hvcnQ="], "events": ["message.sent"]],
                        ["url": "https://ok.example.com", "secrets": ["whsec_AbCdEf********"]],
                        ["url": "https://user:pw@hooks.example.com/x"],
                        ["url": "http://127.0.0.1:8080/hook"],
                        ["url": "http://[::1]/hook"],
                        ["url": "http://localhost/hook"],
                    ],
                    "status_endpoints": [["url": "https://status.example.com"]],
                ])
            #expect(second.status == .unprocessableContent)
            #expect(second["type"] == "urn:herald:problem:invalid-request")
            var reasons: [String: String] = [:]
            if case .array(let errors)? = second["errors"] {
                for error in errors { reasons[error["field"]?.stringValue ?? "", default: ""] += error["reason"]?.stringValue ?? "" }
            }
            #expect(reasons["endpoints[0].url"]?.contains("http or https") == true, "\(reasons)")
            #expect(reasons["endpoints[0].secrets[0]"]?.contains("whsec_") == true)
            #expect(reasons["endpoints[1].secrets[0]"]?.contains("24 to 64 bytes") == true)
            #expect(reasons["endpoints[1].events"]?.contains("status_endpoints") == true)
            #expect(reasons["endpoints[2].url"]?.contains("twice") == true)
            #expect(reasons["endpoints[3].url"]?.contains("user name or password") == true)
            #expect(reasons["endpoints[4].url"]?.contains("loopback") == true)
            #expect(reasons["endpoints[5].url"]?.contains("loopback") == true)
            #expect(reasons["endpoints[6].url"]?.contains("loopback") == true)
            #expect(reasons["status_endpoints[0].events"]?.contains("message.sent") == true)
            #expect(reasons.count == 10, "\(reasons.keys.sorted())")
            #expect(try await engine.webhookSettings(tenantID: tenant.id) == WebhookSettings(), "nothing stored")

            // A redacted secret that stands for nothing stored is refused by name.
            let redacted = try await api.send(
                .put, "/v1/settings/webhook", auth: tenant.key,
                json: ["endpoints": [["url": "https://ok.example.com", "secrets": ["whsec_AbCdEf********"]]]])
            #expect(redacted.status == .unprocessableContent)
            #expect(redacted["field"] == "endpoints[0].secrets[0]")
        }
    }

    @Test func aSubscribersWebhookURLIsCheckedWhenTheSubscriberIsSaved() async throws {
        let engine = try await WebhookFixtures.engine()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Hooks")
            let bad = try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["data": ["webhook_url": "mailto:someone@example.com"]])
            #expect(bad.status == .unprocessableContent)
            #expect(bad["field"] == "data.webhook_url")
            let notText = try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["data": ["webhook_url": 42]])
            #expect(notText["field"] == "data.webhook_url")
            let good = try await api.send(.put, "/v1/subscribers/s1", auth: tenant.key, json: ["data": ["webhook_url": "https://example.com/h"]])
            #expect(good.status == .ok || good.status == .created)
        }
    }
}
