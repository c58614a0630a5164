import Foundation
import Herald
import Testing

@Suite("Activity log over HTTP", .dropsPostgresSchemas)
struct ActivityLogTests {
    @Test("a message shows its attempt count and its attempt log; lists filter and paginate", arguments: StoreBackend.available)
    func messageDetailAndPagination(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let recipients: [JSONValue] = (0..<5).map { .object(["id": .string("r\($0)")]) }
            let event = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                json: ["type": "announcement_posted", "recipients": .array(recipients), "payload": ["title": "T", "excerpt": "x"]])
            let eventID = try #require(event["event_id"]?.stringValue)
            #expect(
                try await engine.eventually {
                    try await api.send(.get, "/v1/events/\(eventID)", auth: tenant.key)["counts"]?["delivered"] == 5
                })

            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/v1/messages?event=\(eventID)&channel=in_app&status=delivered&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await api.send(.get, path, auth: tenant.key)
                guard case .array(let items)? = page["data"] else { break }
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"]?.stringValue }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(seen.count == 5)
            #expect(Set(seen).count == 5)

            let detail = try await api.send(.get, "/v1/messages/\(seen[0])", auth: tenant.key)
            #expect(detail["attempts"] == 1)
            #expect(detail["attempt_log"]?.arrayCount == 1)
            #expect(detail["attempt_log"]?.arrayFirst?["outcome"] == "delivered")
            #expect(detail["status"] == "delivered")
            #expect(try await api.send(.get, "/v1/messages?subscriber=r3&channel=in_app", auth: tenant.key)["data"]?.arrayCount == 1)
        }
    }
}
