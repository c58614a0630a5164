import Foundation

extension HeraldEngine {
    static let smsSettingsKey = "sms"

    /// The built-in SMS channel: each tenant's providers from the store, else the server's.
    static func makeSMSChannel(configuration: HeraldConfiguration, store: any Store, http: OutboundHTTPClient, circuits: CircuitBreakers)
        -> SMSChannel
    {
        SMSChannel(defaults: configuration.sms, http: http, circuits: circuits) { tenantID in
            try await loadSMSSettings(store: store, tenantID: tenantID)
        }
    }

    static func loadSMSSettings(store: any Store, tenantID: String) async throws -> SMSSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: smsSettingsKey) else { return SMSSettings() }
        return try JSONCoding.decoder.decode(SMSSettings.self, from: Data(text.utf8))
    }

    /// The SMS channel in use (built-in or given), for cache invalidation.
    public var smsChannel: SMSChannel? { channels.first { $0.kind == .sms } as? SMSChannel }

    /// The tenant's SMS settings as stored (secrets included; redact before showing them).
    public func smsSettings(tenantID: String) async throws -> SMSSettings {
        try await Self.loadSMSSettings(store: store, tenantID: tenantID)
    }

    /// Replaces the tenant's SMS settings after checking every field. A secret sent back as `********`
    /// keeps the stored secret of the same account, so a settings page can send back what it read.
    @discardableResult
    public func putSMSSettings(tenantID: String, _ settings: SMSSettings) async throws -> SMSSettings {
        var settings = settings
        let redacted = SMSProviderConfiguration.redactedSecret
        if settings.providers.contains(where: { $0.authToken == redacted || $0.authValue == redacted }) {
            settings = settings.restoringSecrets(from: try await smsSettings(tenantID: tenantID))
        }
        let problems = settings.problems() + settings.destinationProblems(policy: configuration.outbound.policy)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        try await store.putTenantSetting(tenantID: tenantID, key: Self.smsSettingsKey, value: JSONCoding.encodeText(settings))
        smsChannel?.settingsChanged(tenantID: tenantID)
        return settings
    }

    public func deleteSMSSettings(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.smsSettingsKey, value: nil)
        smsChannel?.settingsChanged(tenantID: tenantID)
    }
}
