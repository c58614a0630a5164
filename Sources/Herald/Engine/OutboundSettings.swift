import Foundation

/// How Herald calls other people's servers (webhooks, status webhooks, chat, SMS providers, and tenants' own
/// SMTP servers and fallbacks): which addresses it may reach, how long it waits, and when a failing endpoint's
/// circuit opens. The allow-list covers every destination a tenant names; the server-wide SMTP servers
/// (`email.smtp` in `herald.yml`, `HERALD_EMAIL_SMTP_*`) are the operator's own and need no entry. Its keys
/// (`outbound.*`) are rows of ``ConfigurationKey/all``.
public struct OutboundSettings: Sendable {
    /// Allow requests to loopback and private addresses (off by default: see ``DestinationPolicy``).
    public var allowPrivateNetworks = false
    /// Hosts allowed even when private (`hooks.internal`, `10.0.0.7`).
    public var allowedHosts: [String] = []
    public var timeoutSeconds = 10.0
    public var circuit = CircuitBreaker.Settings()

    public init() {}

    public var policy: DestinationPolicy {
        DestinationPolicy(allowPrivateNetworks: allowPrivateNetworks, allowedHosts: Set(allowedHosts))
    }
}
