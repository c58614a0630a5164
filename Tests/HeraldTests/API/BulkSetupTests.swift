import Foundation
import Herald
import Testing

@Suite("Bulk set-up over HTTP", .dropsPostgresSchemas)
struct BulkSetupTests {
    @Test("bulk subscribers, inline topic members, single-rule preferences and the event list", arguments: StoreBackend.available)
    func bulkSetup(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let people: [JSONValue] = (0..<300).map { .object(["id": .string("p\($0)"), "email": .string("p\($0)@example.com")]) }
            let bulk = try await api.send(.post, "/v1/subscribers/bulk", auth: tenant.key, json: ["subscribers": .array(people)])
            #expect(bulk["created"] == 300)
            let bad = try await api.send(
                .post, "/v1/subscribers/bulk", auth: tenant.key, json: ["subscribers": [["id": "q1"], ["id": "q2", "email": "nope"]]])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("subscribers[1].email"))
            #expect(try await api.send(.get, "/v1/subscribers/q1", auth: tenant.key).status == .notFound)

            try await api.send(.put, "/v1/topics/all", auth: tenant.key, json: [:])
            let added = try await api.send(
                .post, "/v1/topics/all/subscribers", auth: tenant.key,
                json: ["subscribers": ["p1", "p2", ["id": "newcomer", "email": "n@example.com"]]])
            #expect(added["added"] == 3)
            #expect(try await api.send(.get, "/v1/topics/all", auth: tenant.key)["member_count"] == 3)

            let single = try await api.send(
                .put, "/v1/subscribers/p1/preferences", auth: tenant.key,
                json: ["event_type": "announcement_posted", "channel": "in-app", "enabled": false])
            #expect(single.status == .ok)
            #expect(single["rules"]?.arrayFirst?["channel"] == "in_app")

            for title in ["one", "two"] {
                try await api.send(
                    .post, "/v1/events", auth: tenant.key,
                    json: ["type": "announcement_posted", "recipients": [["topic": "all"]], "payload": ["title": .string(title), "excerpt": "x"]])
            }
            let events = try await api.send(.get, "/v1/events?limit=1", auth: tenant.key)
            #expect(events["data"]?.arrayCount == 1)
            #expect(events["data"]?.arrayFirst?["payload"]?["title"] == "two")
            let cursor = try #require(events["next_cursor"]?.stringValue)
            #expect(
                try await api.send(.get, "/v1/events?limit=1&cursor=\(cursor)", auth: tenant.key)["data"]?.arrayFirst?["payload"]?["title"] == "one")
            #expect(try await api.send(.get, "/v1/events?type=newsletter", auth: tenant.key)["data"] == .array([]))
        }
    }
}
