import Foundation

/// Which browser origins may call a tenant's inbox endpoints.
extension HeraldEngine {
    static let corsSettingsKey = "cors"

    public func corsSettings(tenantID: String) async throws -> CORSSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: Self.corsSettingsKey) else { return CORSSettings() }
        return (try? JSONCoding.decoder.decode(CORSSettings.self, from: Data(text.utf8))) ?? CORSSettings()
    }

    @discardableResult
    public func putCORSSettings(tenantID: String, _ settings: CORSSettings) async throws -> CORSSettings {
        let problems = settings.problems()
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        try await store.putTenantSetting(tenantID: tenantID, key: Self.corsSettingsKey, value: JSONCoding.encodeText(settings))
        corsCache.invalidate()
        return settings
    }

    public func deleteCORSSettings(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.corsSettingsKey, value: nil)
        corsCache.invalidate()
    }

    /// Whether `origin` may read this tenant's inbox answers. Only ever asked for the tenant of a valid token: a
    /// preflight (no credentials) is answered alike for every origin, so no tenant's allowed origins show.
    public func corsAllows(origin: String, tenantID: String) async -> Bool {
        guard let all = try? await corsCache.value(load: { try await self.store.tenantSettings(key: Self.corsSettingsKey) }) else { return false }
        func allows(_ text: String) -> Bool {
            (try? JSONCoding.decoder.decode(CORSSettings.self, from: Data(text.utf8)))?.allows(origin) ?? false
        }
        return all[tenantID].map(allows) ?? false
    }
}
