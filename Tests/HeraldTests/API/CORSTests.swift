import Foundation
import Herald
import HTTPTypes
import Testing

@Suite("CORS for the inbox", .dropsPostgresSchemas)
struct CORSTests {
    @Test(
        "an origin the token's tenant lists gets Access-Control-Allow-Origin on answers and preflights; others get none",
        arguments: StoreBackend.available)
    func allowedOrigins(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let a = try await api.createTenant("A")
            let b = try await api.createTenant("B")
            for (tenant, origin) in [(a, "https://app.a.example"), (b, "https://app.b.example")] {
                let put = try await api.send(.put, "/v1/settings/cors", auth: tenant.key, json: ["allowed_origins": [.string(origin)]])
                #expect(put.status == .ok)
                _ = try await api.send(.put, "/v1/subscribers/u1", auth: tenant.key, json: [:])
            }
            let token = try #require(try await api.send(.post, "/v1/subscribers/u1/token", auth: a.key)["token"]?.stringValue)
            let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!

            let own = try await api.send(.get, "/v1/inbox/count", auth: token, headers: [.origin: "https://app.a.example"])
            #expect(own.status == .ok)
            #expect(own.headers[allowOrigin] == "https://app.a.example")
            #expect(own.headers[.vary]?.contains("Origin") == true)
            // B's origin is not A's: A's subscriber token does not open A's inbox to B's web app.
            let other = try await api.send(.get, "/v1/inbox/count", auth: token, headers: [.origin: "https://app.b.example"])
            #expect(other.headers[allowOrigin] == nil)
            let unknown = try await api.send(.get, "/v1/inbox/count", auth: token, headers: [.origin: "https://evil.example"])
            #expect(unknown.headers[allowOrigin] == nil)

            let preflight = try await api.send(
                .options, "/v1/inbox/read-all",
                headers: [.origin: "https://app.a.example", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[allowOrigin] == "https://app.a.example")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            // A preflight carries no credentials, so it is answered alike for every origin (no tenant's list shows);
            // the real answer above is what only the token's tenant's origins may read.
            let anyOrigin = try await api.send(
                .options, "/v1/inbox/read-all", headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(anyOrigin.headers[allowOrigin] == "https://evil.example")

            // A 401 is readable by an allowed origin, so the app can tell its token expired.
            let expired = try await api.send(.get, "/v1/inbox/count", auth: "st_bogus", headers: [.origin: "https://app.a.example"])
            #expect(expired.status == .unauthorized)
            #expect(expired.headers[allowOrigin] == "https://app.a.example")
        }
    }

    @Test("origins that could never match are refused with 422 naming the entry", arguments: StoreBackend.available)
    func invalidOrigins(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("A")
            let reply = try await api.send(
                .put, "/v1/settings/cors", auth: tenant.key,
                json: ["allowed_origins": ["https://ok.example", "https://app.example/", "ftp://files.example", "HTTPS://UPPER.example"]])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            let fields = reply["errors"]?.arrayElements.compactMap { $0["field"]?.stringValue } ?? []
            #expect(fields == ["allowed_origins[1]", "allowed_origins[2]", "allowed_origins[3]"])
            #expect(try await api.send(.get, "/v1/settings/cors", auth: tenant.key)["allowed_origins"] == .array([]))
            #expect(try await api.send(.delete, "/v1/settings/cors", auth: tenant.key).status == .noContent)
        }
    }
}
