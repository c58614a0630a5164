/// Where and how a provider's API is reached, the same fields for every provider: written beside the provider's
/// own fields in one settings object (`{"api_key": …, "endpoint": …, "timeout_seconds": …}`), decoded and
/// encoded here once.
public struct EmailProviderConnection: Sendable, Hashable, Codable {
    /// The API's base URL, such as `https://api.sendgrid.com`; nil is the provider's public endpoint.
    public var endpoint: String?
    /// Seconds one API request may take.
    public var timeoutSeconds: Double
    /// PEM certificates trusted besides the system's (a proxy with a private CA, a test server).
    public var trustedCertificatesPEM: String?

    public static let timeoutRule = NumberRule.seconds(0.1...600)
    public static let defaultTimeoutSeconds = 30.0

    public init(endpoint: String? = nil, timeoutSeconds: Double = Self.defaultTimeoutSeconds, trustedCertificatesPEM: String? = nil) {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
        self.trustedCertificatesPEM = trustedCertificatesPEM
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint
        case timeoutSeconds = "timeout_seconds"
        case trustedCertificatesPEM = "trusted_certificates_pem"
    }

    /// The names a provider's object allows besides its own.
    static let keys = Set(CodingKeys.allCases.map(\.stringValue))

    /// Reads the three fields from the provider's object (whose own decoder refuses keys neither knows).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds, within: Self.timeoutRule, deferringRange: true)
            ?? Self.defaultTimeoutSeconds
        trustedCertificatesPEM = try c.decodeIfPresent(String.self, forKey: .trustedCertificatesPEM)
    }

    /// Problems named under `prefix`; `policy` judges a tenant's endpoint as far as can be told without DNS.
    func problems(prefix: String, policy: DestinationPolicy?) -> [FieldError] {
        var problems: [FieldError] = []
        if let reason = Self.timeoutRule.problem(timeoutSeconds) { problems.append(FieldError("\(prefix).timeout_seconds", reason)) }
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
}
