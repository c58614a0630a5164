import Foundation

extension HeraldEngine {
    static let emailSettingsKey = "email"

    /// The tenant's email settings as stored (secrets included; redact before showing them).
    public func emailSettings(tenantID: String) async throws -> EmailSettings {
        try await Self.loadEmailSettings(store: store, tenantID: tenantID)
    }

    /// Replaces the tenant's email settings after checking every field. A password or DKIM key given as the
    /// redacted placeholder `********` keeps the stored one, so a settings page can send back what it read.
    @discardableResult
    public func putEmailSettings(tenantID: String, _ settings: EmailSettings) async throws -> EmailSettings {
        var settings = settings
        // What is stored, for placeholders to keep; a stored document this version refuses (an older one's
        // out-of-range number) keeps nothing, and the new one replaces it.
        let stored = (try? await emailSettings(tenantID: tenantID)) ?? EmailSettings()
        if settings.smtp?.password == "********" { settings.smtp?.password = stored.smtp?.password }
        if settings.smtpFallback?.password == "********" { settings.smtpFallback?.password = stored.smtpFallback?.password }
        if let transports = settings.transports {
            let old = stored.chain
            settings.transports = transports.enumerated().map { index, link in
                link.restoringSecrets(from: index < old.count ? old[index] : nil)
            }
        }
        var problems = settings.problems(policy: configuration.outbound.policy)
        // DKIM keys: generated ones made here, redacted ones restored from what is stored.
        if let dkim = settings.dkim {
            let prepared = dkim.prepared(stored: stored.dkim)
            settings.dkim = prepared.settings
            problems += prepared.problems
        }
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        try await store.putTenantSetting(tenantID: tenantID, key: Self.emailSettingsKey, value: JSONCoding.encodeText(settings))
        emailChannel?.settingsChanged(tenantID: tenantID)
        return settings
    }

    public func deleteEmailSettings(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.emailSettingsKey, value: nil)
        emailChannel?.settingsChanged(tenantID: tenantID)
    }
}
