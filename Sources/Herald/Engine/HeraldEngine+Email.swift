import Foundation
import Logging

extension HeraldEngine {
    /// The built-in email channel: the server's default transport (SMTP, or the outbox folder), each
    /// tenant's own settings read from the store, and signed unsubscribe links.
    static func makeEmailChannel(
        configuration: HeraldConfiguration, store: any Store, settings: TenantSettings<EmailSettings>, renderer: TemplateRenderer,
        tokens: UnsubscribeTokens, bounceAddresses: BounceAddresses, trackingTokens: EmailTrackingTokens, http: OutboundHTTPClient,
        circuits: CircuitBreakers, logger: Logger
    ) -> EmailChannel {
        let base = configuration.publicBaseURL
        var composer = EmailComposer(
            defaults: configuration.email, layout: EmailLayoutRenderer(renderer: renderer),
            unsubscribeURL: { tenantID, subscriberID, eventType in
                unsubscribeLink(base: base, tokens: tokens, tenantID: tenantID, subscriberID: subscriberID, eventType: eventType)
            }, bounceAddresses: bounceAddresses)
        composer.trackingLinks = EmailTrackingLinks(tokens: trackingTokens, baseURL: base)
        return EmailChannel(
            composer: composer, defaults: configuration.email, outboxDirectory: URL(fileURLWithPath: configuration.outboxPath),
            settings: settings,
            suppressions: { tenantID, addresses in try await store.activeSuppressions(tenantID: tenantID, addresses: addresses) },
            destinationPolicy: configuration.outbound.policy, http: http, circuits: circuits, logger: logger)
    }

    /// `BASE/unsubscribe?token=…`; the token is base64url, so it needs no escaping in a query.
    static func unsubscribeLink(base: String, tokens: UnsubscribeTokens, tenantID: String, subscriberID: String, eventType: String) -> String {
        base + "/unsubscribe?token=" + tokens.issue(.init(tenantID: tenantID, subscriberID: subscriberID, eventType: eventType))
    }

    /// The email channel in use (built-in or given), for sending tests and cache invalidation.
    public var emailChannel: EmailChannel? { channels.first { $0.kind == .email } as? EmailChannel }
}
