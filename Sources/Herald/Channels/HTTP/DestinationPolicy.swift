import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where Herald may send HTTP requests on a tenant's behalf (webhooks, chat, SMS providers).
///
/// A tenant names the URL, so without a check a tenant could make Herald call the machine's own
/// admin ports, a cloud metadata service (169.254.169.254) or anything else on the private network
/// (server-side request forgery). Every host is resolved and each of its addresses classified; any
/// loopback, private, link-local, shared or reserved address refuses the request, unless the operator
/// allows private networks or names the host in `allowedHosts`.
///
/// The check resolves the name just before the request; a DNS server that answers differently a
/// moment later (rebinding) is not covered. Redirects are never followed, so a public endpoint cannot
/// bounce a request inward.
public struct DestinationPolicy: Sendable, Hashable {
    public var allowPrivateNetworks: Bool
    /// Hosts allowed even when they resolve to private addresses (lower-cased names or IP literals).
    public var allowedHosts: Set<String>

    public init(allowPrivateNetworks: Bool = false, allowedHosts: Set<String> = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
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

    /// Nil when a request to `url` may go ahead; otherwise the reason it may not.
    public func problem(for url: URL) async -> String? {
        if let problem = Self.syntaxProblem(url.absoluteString) { return problem }
        guard var host = url.host?.lowercased() else { return "must name a host" }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if allowPrivateNetworks || allowedHosts.contains(host) { return nil }
        let addresses: [IPAddress]
        do {
            addresses = try await IPAddress.resolve(host)
        } catch {
            return "cannot resolve \(host): \(error)"
        }
        if addresses.isEmpty { return "\(host) resolves to no address" }
        for address in addresses {
            if let kind = address.nonPublicKind {
                return "\(host) resolves to \(address) (\(kind)); requests to private networks are refused unless the operator allows them"
            }
        }
        return nil
    }
}

/// An IPv4 or IPv6 address as bytes, with the classification the destination policy needs.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a numeric address (no name resolution).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16)) }
        return groups.joined(separator: ":")
    }

    /// Why this address is not on the public internet, or nil when it is.
    public var nonPublicKind: String? {
        if bytes.count == 4 { return Self.v4Kind(bytes[0], bytes[1], bytes[2], bytes[3]) }
        let b = bytes
        if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address to judge.
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return Self.v4Kind(b[12], b[13], b[14], b[15]) }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..<12].allSatisfy({ $0 == 0 }) {
            return Self.v4Kind(b[12], b[13], b[14], b[15])
        }
        if b[0] & 0xfe == 0xfc { return "unique local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "link-local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return "site-local" }
        if b[0] == 0xff { return "multicast" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return "documentation" }
        return nil
    }

    private static func v4Kind(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> String? {
        switch (a, b) {
        case (0, _): return "this network"
        case (10, _): return "private"
        case (100, 64...127): return "shared address space"
        case (127, _): return "loopback"
        case (169, 254): return "link-local"
        case (172, 16...31): return "private"
        case (192, 168): return "private"
        case (198, 18...19): return "benchmarking"
        case (224...239, _): return "multicast"
        case (240...255, _): return "reserved"
        default: break
        }
        if a == 192 && b == 0 && (c == 0 || c == 2) { return c == 0 ? "IETF protocol assignments" : "documentation" }
        if (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113) { return "documentation" }
        return nil
    }

    /// Every address a host name resolves to; an IP literal resolves to itself.
    public static func resolve(_ host: String) async throws -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        return try await Task.detached { try lookup(host) }.value
    }

    private static func lookup(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
            hints.ai_socktype = SOCK_STREAM
        #else
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw ResolutionError(message: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var result: [IPAddress] = []
        var cursor = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }) { result.append(ip) }
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }) { result.append(ip) }
                    }
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return Array(Set(result))
    }

    struct ResolutionError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
