/// `/v1/settings/email`: sender, transports, layout, DKIM, allowed recipient domains. Answers never carry a
/// password, API key or private key, only `********` in its place; sending that back keeps the stored one.
extension EmailSettings: TenantSettingsDocument {
    public static let key = "email"

    public init() { self.init(fromAddress: nil) }

    public func restoringSecrets(from stored: EmailSettings) -> EmailSettings {
        var settings = self
        if smtp?.password == "********" { settings.smtp?.password = stored.smtp?.password }
        if smtpFallback?.password == "********" { settings.smtpFallback?.password = stored.smtpFallback?.password }
        if let transports {
            let old = stored.chain
            settings.transports = transports.enumerated().map { index, link in link.restoringSecrets(from: index < old.count ? old[index] : nil) }
        }
        return settings
    }

    public func problems(in context: TenantSettingsContext) -> [FieldError] { problems(policy: context.destinationPolicy) }

    /// Also DKIM keys: generated ones made here, redacted ones restored from what is stored.
    public func prepared(over stored: EmailSettings, in context: TenantSettingsContext) -> TenantSettingsChange<EmailSettings> {
        var settings = restoringSecrets(from: stored)
        var problems = settings.problems(in: context)
        if let dkim = settings.dkim {
            let prepared = dkim.prepared(stored: stored.dkim)
            settings.dkim = prepared.settings
            problems += prepared.problems
        }
        return TenantSettingsChange(settings, problems: problems)
    }

    /// Settings an older version let through (a `timeout_seconds` of 1e300) are refused as they are read, so
    /// each email fails with that reason and `PUT /v1/settings/email` mends it, rather than a conversion
    /// trapping the process on every start.
    public func storedProblems() -> [FieldError] {
        (smtp?.numberProblems(prefix: "smtp") ?? []) + (smtpFallback?.numberProblems(prefix: "smtp_fallback") ?? [])
    }

    public func effective(in context: TenantSettingsContext) -> Effective? {
        Effective(settings: self, defaults: context.configuration.email)
    }
}
