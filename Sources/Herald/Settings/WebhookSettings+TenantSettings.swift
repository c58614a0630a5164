/// `/v1/settings/webhook`: the webhook channel's endpoints (in failover order), the secrets for subscribers'
/// own URLs, and the status endpoints. Secrets appear in full only in the `PUT` answer that set or generated
/// them; other answers show them redacted (`whsec_AbCdEf********`), and a `PUT` may send a redacted secret
/// back to keep it.
extension WebhookSettings: TenantSettingsDocument {
    public static let key = "webhook"

    public init() { self.init(endpoints: []) }

    public var redacted: WebhookSettings { redacted(except: []) }

    /// Endpoint URLs (and, for IP literals, the destination policy), secrets, status events. Redacted secrets
    /// pass here; ``resolvingSecrets(stored:)`` matches them.
    public func problems(in context: TenantSettingsContext) -> [FieldError] {
        problems() + destinationProblems(policy: context.destinationPolicy)
    }

    /// Endpoints without secrets keep their URL's stored ones or get a new one; redacted secrets stand for the
    /// stored ones (``resolvingSecrets(stored:)``).
    public func prepared(over stored: WebhookSettings, in context: TenantSettingsContext) throws -> TenantSettingsChange<WebhookSettings> {
        let problems = problems(in: context)
        guard problems.isEmpty else { return TenantSettingsChange(self, problems: problems) }
        let resolved = try resolvingSecrets(stored: stored)
        return TenantSettingsChange(resolved.settings, revealed: resolved.revealed)
    }

    /// Each endpoint with its circuit's state, and each status endpoint with its deliveries.
    public static func answer(_ stored: WebhookSettings?, after change: TenantSettingsChange<WebhookSettings>?, in context: TenantSettingsContext)
        async throws -> Answer
    {
        Answer(
            (stored ?? WebhookSettings()).redacted(except: change?.revealed ?? []),
            counts: try await context.store.statusWebhookCounts(tenantID: context.tenantID),
            circuits: context.circuits)
    }

    /// Refuses, when the settings are saved, endpoints whose address is one the destination policy refuses
    /// without DNS (`127.0.0.1`, `2130706433`, `[::127.0.0.1]`, `localhost`, `10.0.0.7`). Names are resolved
    /// only when sending, where the same policy refuses them too.
    func destinationProblems(policy: DestinationPolicy) -> [FieldError] {
        var problems: [FieldError] = []
        for (field, list) in [("endpoints", endpoints), ("status_endpoints", statusEndpoints)] {
            for (index, endpoint) in list.enumerated() {
                guard DestinationPolicy.syntaxProblem(endpoint.url) == nil, let problem = policy.problem(forURL: endpoint.url) else { continue }
                problems.append(FieldError("\(field)[\(index)].url", problem))
            }
        }
        return problems
    }
}
