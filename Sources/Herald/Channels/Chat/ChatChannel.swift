import Foundation

/// The chat channel: posts each message to Slack, Microsoft Teams or Discord through an incoming webhook.
///
/// Where a message goes: the subscriber's own webhook (`data.chat_webhook_url`, with the service in
/// `data.chat_provider` or inferred from the host), else the tenant's webhooks from its chat settings,
/// tried in order by ``FailoverDelivery``. A subscriber's own webhook has no fallback: posting their
/// message to a shared channel instead would show it to people it was not meant for.
public final class ChatChannel: DeliveryChannel {
    public let kind = ChannelKind.chat
    let http: OutboundHTTPClient
    let failover: FailoverDelivery
    /// Messages in flight at once, across all webhooks.
    let concurrency: Int
    /// Tenants' chat settings, read through their family's short cache.
    let tenantSettings: TenantSettings<ChatSettings>

    public init(
        http: OutboundHTTPClient, circuits: CircuitBreakers, concurrency: Int = 16,
        settings: TenantSettings<ChatSettings>
    ) {
        self.http = http
        self.failover = FailoverDelivery(circuits: circuits)
        self.concurrency = concurrency
        self.tenantSettings = settings
    }

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        await failover.deliver(batch, concurrency: concurrency) { outgoing in await self.providers(for: outgoing) }
    }

    /// The webhooks to try for one message, in order.
    func providers(for outgoing: OutgoingMessage) async -> Result<[any MessageProvider], ChannelFailure> {
        let subscriber = outgoing.message.subscriber
        if let text = subscriber.data?["chat_webhook_url"]?.stringValue {
            return Self.subscriberWebhook(url: text, provider: subscriber.data?["chat_provider"]?.stringValue).map { webhook in
                [ChatWebhookProvider(service: webhook.service, url: webhook.url, http: http)]
            }
        }
        let settings: ChatSettings
        do {
            settings = try await self.settings(for: outgoing.message.tenantID)
        } catch {
            return .failure(ChannelFailure(.transientFailure("cannot read the tenant's chat settings: \(error)")))
        }
        let providers: [any MessageProvider] = settings.webhooks.enumerated().compactMap { index, webhook in
            guard let service = webhook.service, let url = URL(string: webhook.url) else { return nil }
            let label = webhook.name ?? (settings.webhooks.count > 1 ? "webhook \(index + 1)" : nil)
            return ChatWebhookProvider(service: service, url: url, http: http, label: label)
        }
        guard !providers.isEmpty else {
            return .failure(
                ChannelFailure(
                    .permanentFailure("no chat webhook: the subscriber has no data.chat_webhook_url and the tenant's chat settings list none")))
        }
        return .success(providers)
    }

    /// A subscriber's own webhook, or why it cannot be used (which no retry will change).
    static func subscriberWebhook(url text: String, provider: String?) -> Result<(service: ChatService, url: URL), ChannelFailure> {
        if let problem = DestinationPolicy.syntaxProblem(text) {
            return .failure(ChannelFailure(.permanentFailure("the subscriber's data.chat_webhook_url \(problem)")))
        }
        guard let url = URL(string: text) else {
            return .failure(ChannelFailure(.permanentFailure("the subscriber's data.chat_webhook_url is not a URL")))
        }
        if let provider {
            guard let service = ChatService(rawValue: provider.lowercased()) else {
                return .failure(ChannelFailure(.permanentFailure("the subscriber's data.chat_provider '\(provider)' is not slack, teams or discord")))
            }
            return .success((service, url))
        }
        guard let service = ChatService.inferred(from: url) else {
            return .failure(
                ChannelFailure(
                    .permanentFailure("the subscriber's chat webhook host \(url.displayHost) is not a known chat service; set data.chat_provider")))
        }
        return .success((service, url))
    }

    func settings(for tenantID: String) async throws -> ChatSettings {
        try await tenantSettings.cached(tenantID: tenantID)
    }
}
