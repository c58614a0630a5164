/// `/v1/settings/chat`: the tenant's chat webhooks, in failover order. Answers never carry a webhook URL in
/// full: each shows only `https://host/********`, and sending that back keeps the stored URL.
extension ChatSettings: TenantSettingsDocument {
    public static let key = "chat"

    public init() { self.init(webhooks: []) }

    public func restoringSecrets(from stored: ChatSettings) -> ChatSettings { restoringURLs(from: stored) }

    public func problems(in context: TenantSettingsContext) -> [FieldError] {
        problems() + destinationProblems(policy: context.destinationPolicy)
    }

    /// Each webhook is stored with its service, inferred from the host when not named.
    public func prepared(over stored: ChatSettings, in context: TenantSettingsContext) -> TenantSettingsChange<ChatSettings> {
        var settings = restoringSecrets(from: stored)
        let problems = settings.problems(in: context)
        for index in settings.webhooks.indices { settings.webhooks[index].provider = settings.webhooks[index].service }
        return TenantSettingsChange(settings, problems: problems)
    }
}
