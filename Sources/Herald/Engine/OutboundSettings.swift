import Foundation

/// How Herald calls other people's servers (webhooks, status webhooks, chat, SMS providers, and tenants' own
/// SMTP servers and fallbacks): which addresses it may reach, how long it waits, and when a failing endpoint's
/// circuit opens. The allow-list covers every destination a tenant names; the server-wide SMTP servers
/// (`HERALD_SMTP_*`, `email.smtp` in `herald.yml`) are the operator's own and need no entry.
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

extension HeraldConfiguration {
    /// The `outbound:` section of `herald.yml`; its numbers are rows of ``HeraldConfiguration/numberSettings``.
    struct OutboundFile: Decodable {
        var allow_private_networks: Bool?
        var allowed_hosts: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable { case allow_private_networks, allowed_hosts }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self, also: HeraldConfiguration.numberKeys(at: decoder.codingPath))
            allow_private_networks = try container.decodeIfPresent(Bool.self, forKey: .allow_private_networks)
            allowed_hosts = try container.decodeIfPresent([String].self, forKey: .allowed_hosts)
        }
    }

    mutating func apply(outboundFile file: OutboundFile) {
        if let value = file.allow_private_networks { outbound.allowPrivateNetworks = value }
        if let value = file.allowed_hosts { outbound.allowedHosts = value }
    }

    mutating func apply(outboundEnvironment environment: [String: String]) throws {
        if let text = environment["HERALD_ALLOW_PRIVATE_NETWORKS"] {
            switch text.lowercased() {
            case "1", "true", "yes", "on": outbound.allowPrivateNetworks = true
            case "0", "false", "no", "off", "": outbound.allowPrivateNetworks = false
            default: throw ConfigurationError("HERALD_ALLOW_PRIVATE_NETWORKS=\(text) is not true or false")
            }
        }
        if let text = environment["HERALD_OUTBOUND_ALLOWED_HOSTS"] {
            outbound.allowedHosts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
