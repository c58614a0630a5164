/// What the four email provider configurations share: where their API is (overridable, for a regional endpoint, a
/// proxy, or a local test server), how long a request may take, extra certificates to trust, and the checks
/// every one of them makes when saved.
public protocol EmailProviderAPI: Sendable, Hashable, Codable {
    /// The provider's name as it appears in the settings (`ses`, `sendgrid`, `postmark`, `mailgun`).
    static var provider: String { get }
    /// Where the API is and how long a request may take.
    var connection: EmailProviderConnection { get }
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
        let base = connection.endpoint ?? defaultEndpoint
        return base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    public var timeoutSeconds: Double { connection.timeoutSeconds }
    public var trustedCertificatesPEM: String? { connection.trustedCertificatesPEM }

    /// Every problem, for the settings API and `herald.yml`: the provider's fields and its connection (for a
    /// tenant's configuration, an endpoint the destination policy allows as far as can be told without DNS).
    public func problems(prefix: String, policy: DestinationPolicy?) -> [FieldError] {
        providerProblems(prefix: prefix) + connection.problems(prefix: prefix, policy: policy)
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

/// What every provider configuration's secrets share.
public enum EmailProviderSettings {
    /// What answers show in place of a secret, and what a client sends back to keep the stored one.
    public static let placeholder = "********"
}
