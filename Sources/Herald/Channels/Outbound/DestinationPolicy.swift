import Foundation

/// Where Herald may connect on a tenant's behalf: the one guard in front of every connection a tenant can aim,
/// its own SMTP server and fallback, webhooks, status webhooks, chat and SMS providers, and subscribers' webhook
/// and chat addresses.
///
/// A tenant names the host, so without a check a tenant could make Herald talk to the machine's own admin ports,
/// a cloud metadata service (169.254.169.254) or anything else on the private network (server-side request
/// forgery), and read the answers back. Any loopback, private, link-local, shared or reserved address is refused,
/// unless the operator allows private networks or names the host in `allowedHosts`. The operator's own server-wide
/// SMTP servers are configuration, not tenant input, and do not pass through here.
///
/// The policy is applied twice:
/// - when settings are saved, ``problem(forHost:)`` and ``problem(forURL:)`` classify a numeric host (in every
///   form a resolver reads, `2130706433` included) and `localhost` without any DNS, so the tenant hears at once;
/// - when connecting, ``vet(host:)`` resolves the name and classifies every address, and the caller connects to
///   one of the vetted addresses rather than resolving again, so a DNS answer that changes between the check and
///   the connect (rebinding) reaches nothing new. (The HTTP client can do this for `http` URLs; for `https` it
///   resolves once more itself, see ``OutboundHTTPClient``.) Redirects are never followed.
public struct DestinationPolicy: Sendable, Hashable {
    public var allowPrivateNetworks: Bool
    /// Hosts allowed even when they resolve to private addresses (lower-cased names or IP literals).
    public var allowedHosts: Set<String>

    public init(allowPrivateNetworks: Bool = false, allowedHosts: Set<String> = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedHosts = Set(allowedHosts.map(Self.normalized))
    }

    /// Whether the operator lets Herald reach `host` whatever it resolves to.
    public func allowsAnyAddress(of host: String) -> Bool {
        allowPrivateNetworks || allowedHosts.contains(Self.normalized(host))
    }

    /// Checks the shape of a URL without any network access: what a settings endpoint answers at save time.
    public static func syntaxProblem(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "must be an absolute http or https URL"
        }
        guard scheme == "https" || scheme == "http" else { return "must use http or https, not \(scheme)" }
        guard let host = components.host, !host.isEmpty else { return "must name a host" }
        if components.user != nil || components.password != nil { return "must not carry a user name or password; use a secret instead" }
        return nil
    }

    /// Checks a bare host (an SMTP server's) for shape: a name of letters, digits, hyphens, underscores and dots,
    /// or a numeric address. Anything else (spaces, `/`, `@`) is refused, because a resolver may read past it.
    public static func hostSyntaxProblem(_ host: String) -> String? {
        if host.isEmpty { return "must not be empty" }
        if IPAddress(numericHost: host) != nil { return nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            host.utf8.count <= 253 && !labels.dropLast().contains(where: \.isEmpty) && !labels.allSatisfy(\.isEmpty)
            && labels.allSatisfy { label in
                label.utf8.count <= 63 && label.unicodeScalars.allSatisfy { EmailAddress.isASCIIAlphanumeric($0) || $0 == "-" || $0 == "_" }
            }
        return valid ? nil : "must be a host name (letters, digits, hyphens and dots) or an IP address"
    }

    /// Save-time check of a host, with no DNS: nil when it is a name (judged when connecting) or a public address;
    /// otherwise why it is refused.
    public func problem(forHost host: String) -> String? {
        if allowsAnyAddress(of: host) { return nil }
        let name = Self.normalized(host)
        if name == "localhost" || name.hasSuffix(".localhost") { return Self.refusal(host, "is this machine", kind: "loopback") }
        guard let address = IPAddress(numericHost: name), let kind = address.nonPublicKind else { return nil }
        return Self.refusal(host, "is \(address)", kind: kind)
    }

    /// Save-time check of a URL: its shape, then its host as ``problem(forHost:)`` judges it.
    public func problem(forURL text: String) -> String? {
        if let problem = Self.syntaxProblem(text) { return problem }
        guard let host = URLComponents(string: text)?.host else { return "must name a host" }
        return problem(forHost: host)
    }

    /// Connect-time check: the addresses to connect to, every one of them public; nil when the operator allows the
    /// host whatever it resolves to (connect by name). Throws ``DestinationRefusal`` when any address is not public,
    /// and `IPAddress.ResolutionError` when the name does not resolve.
    public func vet(host: String) async throws -> [IPAddress]? {
        if allowsAnyAddress(of: host) { return nil }
        let name = Self.normalized(host)
        if name == "localhost" || name.hasSuffix(".localhost") { throw DestinationRefusal(Self.refusal(host, "is this machine", kind: "loopback")) }
        let addresses = try await IPAddress.resolve(name)
        if addresses.isEmpty { throw IPAddress.ResolutionError(message: "\(name) resolves to no address") }
        for address in addresses {
            if let kind = address.nonPublicKind { throw DestinationRefusal(Self.refusal(name, "resolves to \(address)", kind: kind)) }
        }
        return addresses
    }

    /// Nil when a request to `url` may go ahead; otherwise the reason it may not (a refused or unresolvable host).
    public func problem(for url: URL) async -> String? {
        if let problem = Self.syntaxProblem(url.absoluteString) { return problem }
        guard let host = url.host else { return "must name a host" }
        do {
            _ = try await vet(host: host)
            return nil
        } catch let error as IPAddress.ResolutionError {
            return "cannot resolve \(Self.normalized(host)): \(error)"
        } catch {
            return "\(error)"
        }
    }

    /// A host as the allow-list and the classification compare it: lower-cased, without IPv6 brackets or a final dot.
    static func normalized(_ host: String) -> String {
        var text = Substring(host.lowercased())
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if text.count > 1, text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }

    private static func refusal(_ host: String, _ what: String, kind: String) -> String {
        "\(host) \(what) (\(kind)); connections to private networks are refused unless the operator allows them"
    }
}
