import Crypto
import Foundation

/// How webhook destinations are named in the circuit-breaker registry, and so in `/metrics`
/// (`herald_circuit_open{transport="webhook hooks.example.com 3f9a1c2e"}`), which anyone may read.
///
/// A webhook URL can carry a secret in its path or query, so a name never holds more than the host and
/// port. A tenant's endpoint gets its own circuit (the host plus a short digest of the whole URL), so a
/// secondary on the same host still takes over when the primary path fails. Subscribers' own URLs share
/// one circuit per host: there may be millions of them, and each circuit is a series in `/metrics`.
public enum WebhookCircuit {
    /// The circuit of a tenant's endpoint (webhook channel or status webhooks).
    public static func endpoint(_ url: String) -> String {
        let digest = SHA256.hash(data: Data(url.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        return "webhook \(hostLabel(url)) \(digest)"
    }

    /// The circuit shared by every subscriber URL on the same host.
    public static func subscriberHost(_ url: String) -> String {
        "webhook \(hostLabel(url))"
    }

    /// `host` or `host:port`, lower-cased; the URL's text up to its path when it has no host.
    static func hostLabel(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased(), !host.isEmpty else { return "invalid-url" }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}
