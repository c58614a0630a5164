import Herald

/// The per-family shorthand these tests were written with, over the engine's one settings API
/// (``HeraldEngine/tenantSettings(_:)``), which the HTTP routes use too.
extension HeraldEngine {
    @discardableResult
    func putEmailSettings(tenantID: String, _ settings: EmailSettings) async throws -> EmailSettings {
        try await tenantSettings(EmailSettings.self).put(settings, tenantID: tenantID).document
    }

    func chatSettings(tenantID: String) async throws -> ChatSettings {
        try await tenantSettings(ChatSettings.self).document(tenantID: tenantID)
    }

    @discardableResult
    func putChatSettings(tenantID: String, _ settings: ChatSettings) async throws -> ChatSettings {
        try await tenantSettings(ChatSettings.self).put(settings, tenantID: tenantID).document
    }

    func smsSettings(tenantID: String) async throws -> SMSSettings {
        try await tenantSettings(SMSSettings.self).document(tenantID: tenantID)
    }

    @discardableResult
    func putSMSSettings(tenantID: String, _ settings: SMSSettings) async throws -> SMSSettings {
        try await tenantSettings(SMSSettings.self).put(settings, tenantID: tenantID).document
    }

    func webhookSettings(tenantID: String) async throws -> WebhookSettings {
        try await tenantSettings(WebhookSettings.self).document(tenantID: tenantID)
    }

    /// What was stored, and the secrets the answer may show in full.
    @discardableResult
    func putWebhookSettings(tenantID: String, _ settings: WebhookSettings) async throws -> (settings: WebhookSettings, revealed: Set<String>) {
        let change = try await tenantSettings(WebhookSettings.self).put(settings, tenantID: tenantID)
        return (change.document, change.revealed)
    }

    @discardableResult
    func putPushSettings(tenantID: String, _ settings: PushSettings) async throws -> PushSettings {
        try await tenantSettings(PushSettings.self).put(settings, tenantID: tenantID).document
    }
}
