import Foundation

/// Which browser origins may call a tenant's inbox endpoints.
extension HeraldEngine {
    /// Whether `origin` may read this tenant's inbox answers, from its CORS settings as read in the last two
    /// seconds (no store read per request). Only ever asked for the tenant of a valid token: a preflight (no
    /// credentials) is answered alike for every origin, so no tenant's allowed origins show. Settings that
    /// cannot be read allow no origin.
    public func corsAllows(origin: String, tenantID: String) async -> Bool {
        (try? await tenantSettings(CORSSettings.self).cached(tenantID: tenantID))?.allows(origin) ?? false
    }
}
