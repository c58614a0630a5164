import Foundation
import Logging

/// The webhook channel: posts each message as a signed JSON envelope (``WebhookEnvelope``,
/// ``WebhookSigner``) to the subscriber's own `data.webhook_url`, or else to the tenant's endpoints in
/// failover order, each behind its circuit breaker (``FailoverDelivery``).
///
/// A 2xx is `delivered`. `410 Gone` disables that endpoint (or the subscriber's URL) for good and the
/// next endpoint is tried. 408, 429, 5xx, a timeout or no connection count against the endpoint's
/// circuit; while every endpoint's circuit is open, messages wait without spending attempts. Any
/// other 4xx fails the message with the status and the start of the answer.
public final class WebhookChannel: DeliveryChannel {
    public let kind = ChannelKind.webhook
    let settings: WebhookSettingsStore
    let client: OutboundHTTPClient
    let failover: FailoverDelivery
    /// Requests in flight at once for one batch.
    let concurrency: Int
    let logger: Logger

    public init(
        settings: WebhookSettingsStore, client: OutboundHTTPClient, circuits: CircuitBreakers, concurrency: Int = 32, logger: Logger
    ) {
        self.settings = settings
        self.client = client
        self.failover = FailoverDelivery(circuits: circuits)
        self.concurrency = concurrency
        self.logger = logger
    }

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        await failover.deliver(batch, concurrency: concurrency) { outgoing in await self.providers(for: outgoing) }
    }

    /// Where one message may go, in order: the subscriber's own URL alone, or the tenant's enabled endpoints.
    func providers(for outgoing: OutgoingMessage) async -> Result<[any MessageProvider], ChannelFailure> {
        let tenantID = outgoing.message.tenantID
        let subscriber = outgoing.message.subscriber
        let body = WebhookEnvelope.message(outgoing).bytes
        do {
            if let url = subscriber.webhookURL {
                if let reason = subscriber.webhookDisabledReason {
                    return .failure(ChannelFailure(.suppressed(.noAddress, detail: "the subscriber's webhook_url \(url) is disabled: \(reason)")))
                }
                let secrets = try await settings.cached(tenantID: tenantID).subscriberSecrets.compactMap(WebhookSecret.init)
                guard !secrets.isEmpty else {
                    // Never unsigned, and never signed with a secret nobody was shown: the tenant creates it first.
                    return .failure(
                        ChannelFailure(
                            .permanentFailure(
                                "the tenant has no subscriber_secrets to sign posts to subscribers' webhook_url with; "
                                    + "PUT /v1/settings/webhook once (a secret is generated and shown in the answer)")))
                }
                let provider = WebhookEndpointProvider(
                    url: url, circuitKey: WebhookCircuit.subscriberHost(url), secrets: secrets, body: body, client: client
                ) { [settings, logger] url, reason in
                    do {
                        try await settings.disableSubscriberURL(tenantID: tenantID, subscriberID: subscriber.id, url: url, reason: reason)
                    } catch {
                        logger.error(
                            "could not disable a subscriber's webhook_url", metadata: ["subscriber": "\(subscriber.id)", "error": "\(error)"])
                    }
                }
                return .success([provider])
            }
            let endpoints = try await settings.cached(tenantID: tenantID).endpoints.filter(\.isEnabled)
            guard !endpoints.isEmpty else {
                return .failure(
                    ChannelFailure(
                        .suppressed(
                            .noAddress,
                            detail: "the subscriber has no webhook_url and the tenant has no enabled webhook endpoint (PUT /v1/settings/webhook)")))
            }
            return .success(
                endpoints.map { endpoint in
                    WebhookEndpointProvider(
                        url: endpoint.url, circuitKey: WebhookCircuit.endpoint(endpoint.url), secrets: endpoint.signingSecrets, body: body,
                        client: client
                    ) {
                        [settings, logger] url, reason in
                        do {
                            try await settings.disableEndpoint(tenantID: tenantID, url: url, reason: reason)
                        } catch {
                            logger.error("could not disable a webhook endpoint", metadata: ["url": "\(url)", "error": "\(error)"])
                        }
                    }
                })
        } catch {
            return .failure(ChannelFailure(.transientFailure("cannot read the tenant's webhook settings: \(error)")))
        }
    }
}
