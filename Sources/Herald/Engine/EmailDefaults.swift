import Foundation

/// The server's email settings: the sender and transport every tenant uses unless its own settings say
/// otherwise. With no SMTP server configured, email goes to the outbox folder as `.eml` files.
public struct EmailDefaults: Sendable, Hashable {
    public var fromAddress = "herald@localhost"
    public var fromName: String? = "Herald"
    public var replyTo: String?
    /// The SMTP server; nil writes every email to `outboxDirectory` instead.
    public var smtp: SMTPServerConfiguration?
    /// Takes over when `smtp` cannot be reached (its circuit is open).
    public var smtpFallback: SMTPServerConfiguration?
    /// The server's failover chain of SMTP servers and provider APIs (`email.transports`), the long form of
    /// `smtp` then `smtp_fallback`; one or the other is set.
    public var transports: [EmailTransportConfiguration]?
    /// Where emails are written when no SMTP server is configured; relative paths are beside the database.
    public var outboxDirectory = "outbox"
    /// The address the world reaches this server at, for unsubscribe links (`https://herald.example.com`).
    /// Defaults to `http://HOST:PORT`.
    public var publicURL: String?
    public var unsubscribeMailto: String?
    /// The domain of every email's VERP return path (`bounces+…@bounces.example.com`), whose MX points at
    /// Herald's inbound listener; a tenant's `bounce_domain` overrides it. Nil: the From address is the
    /// return path.
    public var bounceDomain: String?
    /// The inbound SMTP listener for bounces and complaints; nil (the default) listens for nothing.
    public var inbound: InboundListener?
    /// A URL prefix trusted besides Amazon SNS's own hosts (`https://sns.<region>.amazonaws.com`) for the signing
    /// certificates and subscription confirmations of SES feedback (`email.sns_certificate_url_prefix`,
    /// `HERALD_SNS_CERTIFICATE_URL_PREFIX`): for tests against a stand-in SNS, never for production. Nil (the
    /// default) trusts SNS's hosts alone.
    public var snsCertificateURLPrefix: String?

    public init() {}

    /// The chain every tenant without its own sends through; empty writes to the outbox.
    public var chain: [EmailTransportConfiguration] {
        if let transports { return transports }
        return [smtp.map(EmailTransportConfiguration.smtp), smtpFallback.map(EmailTransportConfiguration.smtp)].compactMap { $0 }
    }

    /// Where `herald serve` listens for mail to the bounce domain.
    public struct InboundListener: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var maxMessageBytes: Int

        public static let portRule = NumberRule.whole(0...65535)
        public static let maxMessageBytesRule = NumberRule.whole(1024...(256 << 20), unit: "bytes")

        public init(host: String = "0.0.0.0", port: Int = 25, maxMessageBytes: Int = 10 << 20) {
            self.host = host
            self.port = port
            self.maxMessageBytes = maxMessageBytes
        }
    }
}

extension HeraldConfiguration {
    /// The file's `email:` section: its documents (`transports`, the same shape as a tenant's setting)
    /// and the `inbound` section whose presence turns the listener on. Its keys (`from_address`, `smtp.*`,
    /// `inbound.port` …) are rows of ``ConfigurationKey/all``.
    struct EmailFile: Decodable {
        var transports: [EmailTransportConfiguration]?
        var inbound: ConfigurationSection?

        enum CodingKeys: String, CodingKey, CaseIterable { case transports, inbound }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try ConfigurationSection.check(decoder, documents: CodingKeys.self)
            transports = try container.decodeIfPresent([EmailTransportConfiguration].self, forKey: .transports)
            inbound = try container.decodeIfPresent(ConfigurationSection.self, forKey: .inbound)
        }
    }

    mutating func apply(emailFile file: EmailFile) {
        if let value = file.transports { email.transports = value }
        // An `inbound` section turns the listener on; its host, port and size are keys.
        if file.inbound != nil, email.inbound == nil { email.inbound = EmailDefaults.InboundListener(host: host) }
    }

    /// Parses `smtp://`, `smtps://` (implicit TLS) or `smtp+starttls://` URLs; `?security=` overrides.
    public static func smtpServer(url text: String) throws -> SMTPServerConfiguration {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host,
            !host.isEmpty
        else {
            throw ConfigurationError("SMTP URL '\(redactedURL(text))' must look like smtp://user:password@host:587")
        }
        var security: SMTPServerConfiguration.Security
        switch scheme {
        case "smtp": security = .opportunistic
        case "smtps": security = .tls
        case "smtp+starttls": security = .starttls
        case "smtp+plain": security = .none
        default: throw ConfigurationError("SMTP URL scheme '\(scheme)' must be smtp, smtps, smtp+starttls or smtp+plain")
        }
        if let value = components.queryItems?.first(where: { $0.name == "security" })?.value {
            guard let parsed = SMTPServerConfiguration.Security(rawValue: value) else {
                throw ConfigurationError("SMTP URL security=\(value) must be one of starttls, tls, opportunistic, none")
            }
            security = parsed
        }
        var server = SMTPServerConfiguration(host: host, port: components.port ?? (security == .tls ? 465 : 587), security: security)
        server.username = components.user?.removingPercentEncoding ?? components.user
        server.password = components.password?.removingPercentEncoding ?? components.password
        return server
    }

    static func redactedURL(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "****"
        return components.string ?? "(unparseable)"
    }

    static func readCertificates(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("trusted certificate file '\(path)' cannot be read")
        }
        return text
    }

    /// The outbox folder, resolved beside the SQLite database (or in the working folder, with PostgreSQL) when relative.
    public var outboxPath: String {
        if email.outboxDirectory.hasPrefix("/") { return email.outboxDirectory }
        let base =
            PostgresStore.Configuration.isPostgresURL(database)
            ? URL(fileURLWithPath: FileManager.default.currentDirectoryPath) : URL(fileURLWithPath: sqlitePath).deletingLastPathComponent()
        return base.appendingPathComponent(email.outboxDirectory).standardizedFileURL.path
    }

    /// The base of links in emails, without a trailing slash.
    public var publicBaseURL: String {
        var base = email.publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    func emailProblems() -> [String] {
        var problems: [String] = []
        if EmailAddress.problem(in: email.fromAddress) != nil {
            problems.append("email.from_address '\(email.fromAddress)' is not an email address")
        }
        if let server = email.smtp {
            problems += server.problems(prefix: "email.smtp").map { "\($0.field): \($0.reason)" }
        }
        if let server = email.smtpFallback {
            problems += server.problems(prefix: "email.smtp_fallback").map { "\($0.field): \($0.reason)" }
            if email.smtp == nil { problems.append("email.smtp_fallback needs email.smtp: it takes over from that server") }
        }
        if let transports = email.transports {
            if email.smtp != nil || email.smtpFallback != nil {
                problems.append("email.transports: set either transports or smtp (and smtp_fallback), not both")
            }
            if transports.isEmpty { problems.append("email.transports: must name at least one transport, or be left out") }
            for (index, transport) in transports.enumerated() {
                problems += transport.problems(prefix: "email.transports[\(index)]", policy: nil).map { "\($0.field): \($0.reason)" }
            }
        }
        if let domain = email.bounceDomain, let reason = DKIMSigner.problem(inDomain: domain) {
            problems.append("email.bounce_domain '\(domain)' \(reason)")
        }
        if email.inbound != nil, email.bounceDomain == nil {
            problems.append("email.inbound needs email.bounce_domain: the listener takes mail only for that domain")
        }
        if let url = email.publicURL, URL(string: url)?.host == nil { problems.append("email.public_url '\(url)' must be an absolute URL") }
        if let prefix = email.snsCertificateURLPrefix,
            !(prefix.hasPrefix("https://") || prefix.hasPrefix("http://")) || URL(string: prefix)?.host == nil
        {
            problems.append("email.sns_certificate_url_prefix '\(prefix)' must be an absolute http or https URL")
        }
        return problems
    }
}
