import Crypto
import Foundation

extension URL {
    /// `host[:port]`, the part of a provider URL that may be shown: webhook URLs carry their secret in
    /// the path, so attempt details and logs name only the host.
    public var displayHost: String {
        let host = host ?? "?"
        return port.map { "\(host):\($0)" } ?? host
    }

    /// The host and a short digest of the whole URL: tells endpoints on one host apart (two Slack
    /// webhooks, say) in circuit names and metrics without revealing the secret in the path.
    public var endpointLabel: String { endpointLabel(for: absoluteString) }

    /// The host and a short digest of `identity` (an account SID, say): circuit names show up in the
    /// public `/metrics`, which must not carry a tenant's identifiers.
    public func endpointLabel(for identity: String) -> String {
        let digest = SHA256.hash(data: Data(identity.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        return "\(displayHost) #\(digest)"
    }
}
