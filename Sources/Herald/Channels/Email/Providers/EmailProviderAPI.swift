/// What the four email provider configurations share: where their API is (overridable, for a regional endpoint, a
/// proxy, or a local test server), how long a request may take, extra certificates to trust, and the checks
/// every one of them makes when saved.
public protocol EmailProviderAPI: Sendable, Hashable, Codable {
    /// The provider's name as it appears in the settings (`ses`, `sendgrid`, `postmark`, `mailgun`).
    static var provider: String { get }
    /// The API's base URL, such as `https://api.sendgrid.com`; nil is the provider's public endpoint.
    var endpoint: String? { get }
    /// Seconds one API request may take.
    var timeoutSeconds: Double { get }
    /// PEM certificates trusted besides the system's (a proxy with a private CA, a test server).
    var trustedCertificatesPEM: String? { get }
    /// The provider's public endpoint, used when `endpoint` is nil.
    var defaultEndpoint: String { get }
    /// The same configuration with every secret masked as `********`.
    var redacted: Self { get }
    /// The same configuration with each secret given as `********` replaced by the stored one.
    func restoringSecrets(from stored: Self?) -> Self
    /// Problems with the provider's own fields (credentials, domain), named under `prefix`.
    func providerProblems(prefix: String) -> [FieldError]
}

extension EmailProviderAPI {
    /// The base URL requests go to, without a trailing slash.
    public var baseURL: String {
        let base = endpoint ?? defaultEndpoint
        return base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    /// Every problem, for the settings API and `herald.yml`: the provider's fields, the shared numbers, and (for a
    /// tenant's configuration) an endpoint the destination policy allows as far as can be told without DNS.
    public func problems(prefix: String, policy: DestinationPolicy?) -> [FieldError] {
        var problems = providerProblems(prefix: prefix)
        if let reason = EmailProviderSettings.timeoutRule.problem(timeoutSeconds) {
            problems.append(FieldError("\(prefix).timeout_seconds", reason))
        }
        if let endpoint {
            if !(endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")) {
                problems.append(FieldError("\(prefix).endpoint", "must be an absolute http or https URL"))
            } else if let reason = DestinationPolicy.syntaxProblem(endpoint) ?? policy?.problem(forURL: endpoint) {
                problems.append(FieldError("\(prefix).endpoint", reason))
            }
        }
        if let pem = trustedCertificatesPEM, !pem.contains("-----BEGIN CERTIFICATE-----") {
            problems.append(FieldError("\(prefix).trusted_certificates_pem", "must hold PEM certificates (-----BEGIN CERTIFICATE-----)"))
        }
        return problems
    }

    /// `secret` unless it is the placeholder, in which case the stored one.
    static func restored(_ secret: String?, _ stored: String?) -> String? {
        secret == EmailProviderSettings.placeholder ? stored : secret
    }

    static func masked(_ secret: String?) -> String? { secret == nil ? nil : EmailProviderSettings.placeholder }

    static func required(_ value: String?, _ field: String, prefix: String, _ what: String) -> [FieldError] {
        guard let value, !value.isEmpty else { return [FieldError("\(prefix).\(field)", "is required: \(what)")] }
        if value.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
            return [FieldError("\(prefix).\(field)", "must not contain a line break or control character")]
        }
        return []
    }
}

/// The rules every provider configuration shares.
public enum EmailProviderSettings {
    public static let placeholder = "********"
    public static let timeoutRule = NumberRule.seconds(0.1...600)
    public static let defaultTimeoutSeconds = 30.0
}
