/// `/v1/settings/sms`: the tenant's SMS providers, in failover order, and its segment cap. Answers never carry
/// a secret: `auth_token` and `auth_value` show as `********`, and sending that back keeps the stored value.
extension SMSSettings: TenantSettingsDocument {
    public static let key = "sms"

    public init() { self.init(providers: []) }

    public func problems(in context: TenantSettingsContext) -> [FieldError] {
        problems() + destinationProblems(policy: context.destinationPolicy)
    }

    public func effective(in context: TenantSettingsContext) -> Effective? {
        Effective(settings: self, defaults: context.configuration.sms)
    }
}
