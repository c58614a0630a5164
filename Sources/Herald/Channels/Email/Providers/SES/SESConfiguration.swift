/// Amazon SES (API v2): `SendEmail` with the raw MIME message Herald built, so its DKIM signature and headers
/// arrive as they are, signed with AWS Signature Version 4. Bounces and complaints come back through an SNS
/// topic subscribed to `/hooks/email/ses`.
public struct SESConfiguration: EmailProviderAPI {
    public static let provider = "ses"
    /// The AWS region, such as `eu-west-1`; the endpoint is `https://email.<region>.amazonaws.com`.
    public var region: String
    public var accessKeyID: String
    public var secretAccessKey: String
    /// An SES configuration set, named in each send (event publishing, dedicated IPs).
    public var configurationSet: String?
    /// The SNS topics whose notifications are taken (their ARNs); nil takes any topic whose message verifies.
    public var snsTopicARNs: [String]?
    public var connection: EmailProviderConnection

    public init(
        region: String, accessKeyID: String, secretAccessKey: String, configurationSet: String? = nil, snsTopicARNs: [String]? = nil, connection: EmailProviderConnection = EmailProviderConnection()
    ) {
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.configurationSet = configurationSet
        self.snsTopicARNs = snsTopicARNs
        self.connection = connection
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case region
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
        case configurationSet = "configuration_set"
        case snsTopicARNs = "sns_topic_arns"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: EmailProviderConnection.keys)
        region = try c.decode(String.self, forKey: .region)
        accessKeyID = try c.decode(String.self, forKey: .accessKeyID)
        secretAccessKey = try c.decode(String.self, forKey: .secretAccessKey)
        configurationSet = try c.decodeIfPresent(String.self, forKey: .configurationSet)
        snsTopicARNs = try c.decodeIfPresent([String].self, forKey: .snsTopicARNs)
        connection = try EmailProviderConnection(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(region, forKey: .region)
        try c.encode(accessKeyID, forKey: .accessKeyID)
        try c.encode(secretAccessKey, forKey: .secretAccessKey)
        try c.encodeIfPresent(configurationSet, forKey: .configurationSet)
        try c.encodeIfPresent(snsTopicARNs, forKey: .snsTopicARNs)
        try connection.encode(to: encoder)
    }

    public var defaultEndpoint: String { "https://email.\(region).amazonaws.com" }

    public var redacted: SESConfiguration {
        var copy = self
        copy.secretAccessKey = EmailProviderSettings.placeholder
        return copy
    }

    public func restoringSecrets(from stored: SESConfiguration?) -> SESConfiguration {
        var copy = self
        copy.secretAccessKey = Self.restored(secretAccessKey, stored?.secretAccessKey) ?? ""
        return copy
    }

    public func providerProblems(prefix: String) -> [FieldError] {
        var problems = Self.required(accessKeyID, "access_key_id", prefix: prefix, "the IAM access key id")
        problems += Self.required(secretAccessKey, "secret_access_key", prefix: prefix, "the IAM secret access key")
        let validRegion = !region.isEmpty && region.count <= 32 && region.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        if !validRegion { problems.append(FieldError("\(prefix).region", "must be an AWS region such as eu-west-1")) }
        if let set = configurationSet { problems += Self.required(set, "configuration_set", prefix: prefix, "a configuration set name") }
        for (index, arn) in (snsTopicARNs ?? []).enumerated() where !arn.hasPrefix("arn:") {
            problems.append(FieldError("\(prefix).sns_topic_arns[\(index)]", "must be an SNS topic ARN (arn:aws:sns:…)"))
        }
        return problems
    }
}
