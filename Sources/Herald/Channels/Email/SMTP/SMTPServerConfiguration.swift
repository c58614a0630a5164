/// Where and how to reach one SMTP server. Connections to the same configuration share a pool.
public struct SMTPServerConfiguration: Sendable, Codable, Hashable {
    /// How the connection is protected.
    public enum Security: String, Sendable, Codable, CaseIterable {
        /// The default: STARTTLS whenever the server offers it (certificate verified), plain TCP when it
        /// does not. Credentials are never sent without TLS (except to a loopback server), so a server that
        /// wants AUTH must offer STARTTLS.
        case opportunistic
        /// STARTTLS is required; a server that does not offer it is an error.
        case starttls
        /// TLS from the first byte (SMTPS, usually port 465).
        case tls
        /// Never TLS. Only for loopback test servers.
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM certificates to trust in addition to the system's (a self-signed or private CA).
    public var trustedCertificatesPEM: String?
    /// Certificate verification is on unless turned off explicitly here.
    public var verifyCertificates: Bool
    /// The name this client gives in EHLO; defaults to the machine's host name.
    public var heloName: String?
    /// Warm connections kept to this server at most.
    public var maxConnections: Int
    /// Seconds a connection may sit unused before it is closed.
    public var idleTimeoutSeconds: Double
    /// Seconds any one step (connect, a reply, TLS handshake) may take.
    public var timeoutSeconds: Double

    public init(
        host: String, port: Int = 587, security: Security = .opportunistic, username: String? = nil, password: String? = nil,
        trustedCertificatesPEM: String? = nil, verifyCertificates: Bool = true, heloName: String? = nil, maxConnections: Int = 4,
        idleTimeoutSeconds: Double = 30, timeoutSeconds: Double = 30
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.trustedCertificatesPEM = trustedCertificatesPEM
        self.verifyCertificates = verifyCertificates
        self.heloName = heloName
        self.maxConnections = maxConnections
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, security, username, password
        case trustedCertificatesPEM = "trusted_certificates_pem"
        case verifyCertificates = "verify_certificates"
        case heloName = "helo_name"
        case maxConnections = "max_connections"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case timeoutSeconds = "timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.host = try c.decode(String.self, forKey: .host)
        self.security = try c.decodeIfPresent(Security.self, forKey: .security) ?? .opportunistic
        self.port = try c.decodeIfPresent(Int.self, forKey: .port, within: Self.portRule, deferringRange: true) ?? (security == .tls ? 465 : 587)
        self.username = try c.decodeIfPresent(String.self, forKey: .username)
        self.password = try c.decodeIfPresent(String.self, forKey: .password)
        self.trustedCertificatesPEM = try c.decodeIfPresent(String.self, forKey: .trustedCertificatesPEM)
        self.verifyCertificates = try c.decodeIfPresent(Bool.self, forKey: .verifyCertificates) ?? true
        self.heloName = try c.decodeIfPresent(String.self, forKey: .heloName)
        // Ranges are checked by `problems` (and again when a stored document is read), so one answer names them all.
        self.maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections, within: Self.maxConnectionsRule, deferringRange: true) ?? 4
        self.idleTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds, within: Self.idleTimeoutRule, deferringRange: true) ?? 30
        self.timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds, within: Self.timeoutRule, deferringRange: true) ?? 30
    }

    /// The bounds of each number, checked by ``numberProblems(prefix:)`` wherever a configuration comes from
    /// (`PUT /v1/settings/email`, a stored document read back, `herald.yml`, `HERALD_SMTP_*`).
    public static let portRule = NumberRule.whole(1...65535)
    public static let maxConnectionsRule = NumberRule.whole(1...64)
    /// Any one step: long enough for a slow relay, short enough that a dead one frees its worker.
    public static let timeoutRule = NumberRule.seconds(0.1...600)
    public static let idleTimeoutRule = NumberRule.seconds(0.1...3600)

    /// The configuration with its password masked as `********` (kept nil when there is none).
    public var redacted: SMTPServerConfiguration {
        var copy = self
        copy.password = password == nil ? nil : "********"
        return copy
    }

    /// Whether the server is on this machine, where credentials never cross a network.
    public var isLoopback: Bool {
        ["localhost", "::1", "[::1]"].contains(host.lowercased()) || host.hasPrefix("127.")
    }

    /// Numbers out of their rule's range, named by field: what `problems` reports, and all a stored
    /// document is checked for again when it is read (an older version accepted a timeout of 1e300, and
    /// `Int64(1e300 * 1000)` stopped the process on every start).
    public func numberProblems(prefix: String) -> [FieldError] {
        var problems: [FieldError] = []
        if let reason = Self.portRule.problem(port) { problems.append(FieldError("\(prefix).port", reason)) }
        if let reason = Self.maxConnectionsRule.problem(maxConnections) { problems.append(FieldError("\(prefix).max_connections", reason)) }
        if let reason = Self.timeoutRule.problem(timeoutSeconds) { problems.append(FieldError("\(prefix).timeout_seconds", reason)) }
        if let reason = Self.idleTimeoutRule.problem(idleTimeoutSeconds) {
            problems.append(FieldError("\(prefix).idle_timeout_seconds", reason))
        }
        return problems
    }

    /// Problems with the values, named by field, for configuration files and the settings API.
    public func problems(prefix: String) -> [FieldError] {
        var problems: [FieldError] = []
        if host.isEmpty { problems.append(FieldError("\(prefix).host", "must not be empty")) }
        if (username == nil) != (password == nil) {
            problems.append(FieldError("\(prefix).\(username == nil ? "username" : "password")", "username and password go together"))
        }
        problems += numberProblems(prefix: prefix)
        if let pem = trustedCertificatesPEM, !pem.contains("-----BEGIN CERTIFICATE-----") {
            problems.append(FieldError("\(prefix).trusted_certificates_pem", "must hold PEM certificates (-----BEGIN CERTIFICATE-----)"))
        }
        return problems
    }
}

extension SMTPServerConfiguration: CustomStringConvertible {
    /// Never shows the password, so a configuration can be logged safely.
    public var description: String {
        "smtp://\(username.map { "\($0)@" } ?? "")\(host):\(port) (\(security.rawValue))"
    }
}
