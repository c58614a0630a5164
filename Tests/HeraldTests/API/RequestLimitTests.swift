import Foundation
import Herald
import HTTPTypes
import Testing

@Suite("API request limits")
struct RequestLimitTests {
    @Test("a tenant key over its limit gets 429 problem+json with Retry-After; another tenant is not affected")
    func tenantLimit() async throws {
        let engine = try await TestEngine.make {
            // One token per 200 s: nothing refills while the test runs, however slow the machine.
            $0.requestLimits.tenantPerSecond = 0.005
            $0.requestLimits.tenantBurst = 5
        }
        try await engine.testAPI { api in
            let a = try await api.createTenant("A")
            let b = try await api.createTenant("B")
            var statuses: [Int] = []
            for _ in 0..<7 { statuses.append(Int(try await api.send(.get, "/v1/event-types", auth: a.key).status.code)) }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429])
            let refused = try await api.send(.get, "/v1/event-types", auth: a.key)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType] == "application/problem+json")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 150 && retryAfter <= 200, "the next token is about 200 s away")
            #expect(refused["type"] == "urn:herald:problem:too-many-requests")
            #expect(try await api.send(.get, "/v1/event-types", auth: b.key).status == .ok)
        }
    }

    @Test("a subscriber token over its limit gets 429; its tenant's key still works")
    func subscriberLimit() async throws {
        let engine = try await TestEngine.make {
            $0.requestLimits.subscriberPerSecond = 0.005
            $0.requestLimits.subscriberBurst = 3
        }
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            _ = try await api.send(.put, "/v1/subscribers/u1", auth: tenant.key, json: [:])
            let token = try #require(try await api.send(.post, "/v1/subscribers/u1/token", auth: tenant.key)["token"]?.stringValue)
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(Int(try await api.send(.get, "/v1/inbox/count", auth: token).status.code)) }
            #expect(statuses == [200, 200, 200, 429])
            #expect(try await api.send(.get, "/v1/subscribers/u1", auth: tenant.key).status == .ok)
        }
    }
}
