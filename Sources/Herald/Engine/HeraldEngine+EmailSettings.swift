import Foundation

extension HeraldEngine {
    /// The tenant's email settings as stored (secrets included; redact before showing them), as the email paths
    /// outside the channel read them (test sends, previews, bounces, provider webhooks).
    package func emailSettings(tenantID: String) async throws -> EmailSettings {
        try await tenantSettings(EmailSettings.self).document(tenantID: tenantID)
    }
}
