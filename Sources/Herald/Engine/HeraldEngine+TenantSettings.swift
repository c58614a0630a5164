import Foundation

extension HeraldEngine {
    /// A settings family's documents (``EmailSettings``, ``ChatSettings``, ``SMSSettings``, ``WebhookSettings``,
    /// ``CORSSettings``, ``RateLimitSettings``, or a family of the app's own): read, replaced with every field
    /// checked and secrets kept, removed, and answered as `/v1/settings/{name}` shows them. The channels read
    /// the same instance, so a change takes effect on the next message.
    ///
    /// ```swift
    /// try await herald.tenantSettings(CORSSettings.self).put(CORSSettings(allowedOrigins: ["https://app.example.com"]), tenantID: id)
    /// ```
    public func tenantSettings<Document: TenantSettingsDocument>(_ family: Document.Type) -> TenantSettings<Document> {
        settingsRegistry.settings(family)
    }
}
