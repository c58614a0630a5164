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
    /// The `outbound:` section of `herald.yml`.
    struct OutboundFile: Decodable {
        var allow_private_networks: Bool?
        var allowed_hosts: [String]?
        var timeout_seconds: Double?
        var circuit_failure_threshold: Int?
        var circuit_open_seconds: Double?
        var circuit_max_open_seconds: Double?
    }

    mutating func apply(outboundFile file: OutboundFile) {
        if let value = file.allow_private_networks { outbound.allowPrivateNetworks = value }
        if let value = file.allowed_hosts { outbound.allowedHosts = value }
        if let value = file.timeout_seconds { outbound.timeoutSeconds = value }
        var circuit = outbound.circuit
        if let value = file.circuit_failure_threshold { circuit.failureThreshold = value }
        if let value = file.circuit_open_seconds { circuit.openSeconds = value }
        if let value = file.circuit_max_open_seconds { circuit.maxOpenSeconds = value }
        outbound.circuit = CircuitBreaker.Settings(
            failureThreshold: circuit.failureThreshold, openSeconds: circuit.openSeconds, maxOpenSeconds: circuit.maxOpenSeconds,
            probeTimeoutSeconds: circuit.probeTimeoutSeconds)
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
        func double(_ name: String) throws -> Double? {
            guard let text = environment[name] else { return nil }
            guard let value = Double(text) else { throw ConfigurationError("\(name)=\(text) is not a number") }
            return value
        }
        if let value = try double("HERALD_OUTBOUND_TIMEOUT_SECONDS") { outbound.timeoutSeconds = value }
        var circuit = outbound.circuit
        if let value = try double("HERALD_CIRCUIT_FAILURE_THRESHOLD") { circuit.failureThreshold = Int(value) }
        if let value = try double("HERALD_CIRCUIT_OPEN_SECONDS") { circuit.openSeconds = value }
        if let value = try double("HERALD_CIRCUIT_MAX_OPEN_SECONDS") { circuit.maxOpenSeconds = value }
        outbound.circuit = CircuitBreaker.Settings(
            failureThreshold: circuit.failureThreshold, openSeconds: circuit.openSeconds, maxOpenSeconds: circuit.maxOpenSeconds,
            probeTimeoutSeconds: circuit.probeTimeoutSeconds)
    }

    func outboundProblems() -> [String] {
        var problems: [String] = []
        if outbound.timeoutSeconds <= 0 { problems.append("outbound.timeout_seconds must be positive") }
        if outbound.circuit.failureThreshold < 1 { problems.append("outbound.circuit_failure_threshold must be at least 1") }
        return problems
    }
}
