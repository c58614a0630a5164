import Foundation

/// Notification rate limits: the server's (`rate_limits:` in herald.yml) and a tenant's own over them.
extension HeraldEngine {
    /// What applies to the tenant's messages: the server's limits with the tenant's in their place, as read
    /// in the last two seconds on the trigger path. A tenant's document that no longer reads (an older
    /// version's) leaves the server's limits in force rather than refusing the tenant's triggers.
    func effectiveRateLimits(tenantID: String) async throws -> RateLimitSettings {
        let tenant: RateLimitSettings
        do {
            tenant = try await tenantSettings(RateLimitSettings.self).cached(tenantID: tenantID)
        } catch HeraldError.invalid {
            tenant = RateLimitSettings()
        }
        return configuration.rateLimits.overridden(by: tenant)
    }
}
