import Foundation

/// Notification rate limits: the server's (`rate_limits:` in herald.yml) and a tenant's own over them.
extension HeraldEngine {
    static let rateLimitSettingsKey = "rate_limits"

    /// The tenant's own settings (nil when it has none).
    public func tenantRateLimits(tenantID: String) async throws -> RateLimitSettings? {
        if let cached = rateLimitCache.value(for: tenantID) { return cached }
        let settings = try await store.tenantSetting(tenantID: tenantID, key: Self.rateLimitSettingsKey).flatMap {
            try? JSONCoding.decoder.decode(RateLimitSettings.self, from: Data($0.utf8))
        }
        rateLimitCache.store(settings, for: tenantID)
        return settings
    }

    /// What applies to the tenant's messages: the server's limits with the tenant's in their place.
    public func effectiveRateLimits(tenantID: String) async throws -> RateLimitSettings {
        configuration.rateLimits.overridden(by: try await tenantRateLimits(tenantID: tenantID))
    }

    @discardableResult
    public func putRateLimits(tenantID: String, _ settings: RateLimitSettings) async throws -> RateLimitSettings {
        let problems = settings.problems()
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        try await store.putTenantSetting(tenantID: tenantID, key: Self.rateLimitSettingsKey, value: JSONCoding.encodeText(settings))
        rateLimitCache.remove(tenantID)
        return settings
    }

    public func deleteRateLimits(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.rateLimitSettingsKey, value: nil)
        rateLimitCache.remove(tenantID)
    }
}
