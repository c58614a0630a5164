import Foundation
import Herald
@testable import HeraldServer
import Hummingbird
import HummingbirdTesting
import Testing

/// A settings family added the way the next one will be: ``DoorbellSettings`` (a conformance) and one registration
/// in the route list. It gets `GET/PUT/DELETE /v1/settings/doorbell` behind the tenant key, with validation,
/// redaction, secrets kept on a round trip and a cache that a change forgets, from the generic code alone.
@Suite("A seventh settings family is a conformance and one registration", .dropsPostgresSchemas)
struct SettingsFamilyTests {
    /// The product's families plus the test's own, on the real router with its authentication.
    static func withDoorbellAPI(_ engine: HeraldEngine, _ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let families = SettingsRoutes.families + [SettingsRoutes.Family(DoorbellSettings.self)]
        let app = Application(router: HeraldServer.routeAccess(engine: engine, settingsFamilies: families).router)
        try await engine.whileRunning {
            try await app.test(.router) { client in try await body(APIClient(client: client)) }
        }
    }

    @Test("get, put, delete, validation and redaction work for a family the product does not know", arguments: StoreBackend.available)
    func doorbellThroughTheGenericRoutes(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let doorbell = engine.tenantSettings(DoorbellSettings.self)
        try await Self.withDoorbellAPI(engine) { api in
            let (tenantID, key) = try await api.createTenant("Doorbell")
            let (otherID, _) = try await api.createTenant("Other")
            #expect(try await api.send(.get, "/v1/settings/doorbell").status == .unauthorized)
            #expect(try await api.send(.get, "/v1/settings/doorbell", auth: key).json == [:], "nothing stored: the empty document")

            let put = try await api.send(.put, "/v1/settings/doorbell", auth: key, json: ["chime": "bell", "volume": 3, "api_key": "k-secret"])
            #expect(put.status == .ok, "\(put.text)")
            #expect(put.json == ["chime": "bell", "volume": 3, "api_key": "********"], "the answer never shows the key")
            #expect(try await api.send(.get, "/v1/settings/doorbell", auth: key).json == put.json)
            #expect(try await doorbell.stored(tenantID: tenantID) == DoorbellSettings(chime: "bell", volume: 3, apiKey: "k-secret"))
            #expect(try await doorbell.stored(tenantID: otherID) == nil, "another tenant's settings are its own")

            // What a settings page sends back (the key redacted) keeps the stored key; the cache sees the change at once.
            #expect(try await doorbell.cached(tenantID: tenantID).chime == "bell")
            let again = try await api.send(.put, "/v1/settings/doorbell", auth: key, json: ["chime": "gong", "volume": 4, "api_key": "********"])
            #expect(again.status == .ok, "\(again.text)")
            #expect(try await doorbell.cached(tenantID: tenantID) == DoorbellSettings(chime: "gong", volume: 4, apiKey: "k-secret"))

            let refused = try await api.send(.put, "/v1/settings/doorbell", auth: key, json: ["chime": "loud", "volume": 11])
            #expect(refused.status == .unprocessableContent && refused["errors"]?.arrayFirst?["field"] == "volume", "\(refused.text)")
            #expect(try await doorbell.stored(tenantID: tenantID)?.chime == "gong", "a refused document changes nothing")

            #expect(try await api.send(.delete, "/v1/settings/doorbell", auth: key).status == .noContent)
            #expect(try await api.send(.get, "/v1/settings/doorbell", auth: key).json == [:])
            #expect(try await doorbell.stored(tenantID: tenantID) == nil)
            #expect(try await doorbell.cached(tenantID: tenantID) == DoorbellSettings())
        }
    }

    @Test("the product's router serves the seven families and no test family")
    func theProductListsItsOwnFamilies() async throws {
        #expect(SettingsRoutes.families.count == 7)
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("T")
            for name in ["email", "chat", "sms", "webhook", "cors", "rate-limits", "push"] {
                #expect(try await api.send(.get, "/v1/settings/\(name)", auth: key).status == .ok, "\(name)")
            }
            #expect(try await api.send(.get, "/v1/settings/doorbell", auth: key).status == .notFound)
        }
    }
}
