import Foundation
import Logging

extension HeraldEngine {
    /// The built-in email channel: the server's default transport (SMTP, or the outbox folder), each
    /// tenant's own settings read from the store, and signed unsubscribe links.
    static func makeEmailChannel(
        configuration: HeraldConfiguration, store: any Store, renderer: TemplateRenderer, tokens: UnsubscribeTokens,
        bounceAddresses: BounceAddresses, trackingTokens: EmailTrackingTokens, http: OutboundHTTPClient, circuits: CircuitBreakers,
        logger: Logger
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
            settings: { tenantID in try await loadEmailSettings(store: store, tenantID: tenantID) },
            suppressions: { tenantID, addresses in try await store.activeSuppressions(tenantID: tenantID, addresses: addresses) },
            destinationPolicy: configuration.outbound.policy, http: http, circuits: circuits, logger: logger)
    }

    /// `BASE/unsubscribe?token=…`; the token is base64url, so it needs no escaping in a query.
    static func unsubscribeLink(base: String, tokens: UnsubscribeTokens, tenantID: String, subscriberID: String, eventType: String) -> String {
        base + "/unsubscribe?token=" + tokens.issue(.init(tenantID: tenantID, subscriberID: subscriberID, eventType: eventType))
    }

    /// The stored document, checked again as it is read: settings an older version let through (a
    /// `timeout_seconds` of 1e300) are refused naming the field, so each email fails with that reason and
    /// `PUT /v1/settings/email` mends it, rather than a conversion trapping the process on every start.
    static func loadEmailSettings(store: any Store, tenantID: String) async throws -> EmailSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: emailSettingsKey) else { return EmailSettings() }
        let settings: EmailSettings
        do {
            settings = try JSONCoding.decoder.decode(EmailSettings.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw HeraldError.invalid([FieldError(error.fieldPath, "the stored email settings are not valid: \(error.heraldReason)")])
        }
        let problems = (settings.smtp?.numberProblems(prefix: "smtp") ?? []) + (settings.smtpFallback?.numberProblems(prefix: "smtp_fallback") ?? [])
        guard problems.isEmpty else {
            throw HeraldError.invalid(problems.map { FieldError($0.field, "the stored email settings are not valid: \($0.reason)") })
        }
        return settings
    }

    /// The email channel in use (built-in or given), for sending tests and cache invalidation.
    public var emailChannel: EmailChannel? { channels.first { $0.kind == .email } as? EmailChannel }
}
