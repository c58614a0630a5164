/// One link of an email failover chain: an SMTP server or a provider's HTTP API. Written as an object with exactly
/// one key naming the kind: `{"smtp": {"host": …}}`, `{"ses": {"region": …}}`, `{"sendgrid": …}`, `{"postmark": …}`,
/// `{"mailgun": …}`.
public enum EmailTransportConfiguration: Sendable, Hashable, Codable {
    case smtp(SMTPServerConfiguration)
    case ses(SESConfiguration)
    case sendgrid(SendGridConfiguration)
    case postmark(PostmarkConfiguration)
    case mailgun(MailgunConfiguration)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case smtp, ses, sendgrid, postmark, mailgun
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "must have exactly one of smtp, ses, sendgrid, postmark, mailgun"))
        }
        switch key {
        case .smtp: self = .smtp(try container.decode(SMTPServerConfiguration.self, forKey: key))
        case .ses: self = .ses(try container.decode(SESConfiguration.self, forKey: key))
        case .sendgrid: self = .sendgrid(try container.decode(SendGridConfiguration.self, forKey: key))
        case .postmark: self = .postmark(try container.decode(PostmarkConfiguration.self, forKey: key))
        case .mailgun: self = .mailgun(try container.decode(MailgunConfiguration.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .smtp(let value): try container.encode(value, forKey: .smtp)
        case .ses(let value): try container.encode(value, forKey: .ses)
        case .sendgrid(let value): try container.encode(value, forKey: .sendgrid)
        case .postmark(let value): try container.encode(value, forKey: .postmark)
        case .mailgun(let value): try container.encode(value, forKey: .mailgun)
        }
    }

    /// The key the configuration is written under.
    public var kind: String {
        switch self {
        case .smtp: "smtp"
        case .ses: SESConfiguration.provider
        case .sendgrid: SendGridConfiguration.provider
        case .postmark: PostmarkConfiguration.provider
        case .mailgun: MailgunConfiguration.provider
        }
    }

    public var redacted: EmailTransportConfiguration {
        switch self {
        case .smtp(let value): .smtp(value.redacted)
        case .ses(let value): .ses(value.redacted)
        case .sendgrid(let value): .sendgrid(value.redacted)
        case .postmark(let value): .postmark(value.redacted)
        case .mailgun(let value): .mailgun(value.redacted)
        }
    }

    /// Secrets given as `********` taken from `stored`, the link at the same place in the stored chain when it is
    /// of the same kind.
    public func restoringSecrets(from stored: EmailTransportConfiguration?) -> EmailTransportConfiguration {
        switch (self, stored) {
        case (.smtp(var value), let stored):
            if value.password == EmailProviderSettings.placeholder {
                if case .smtp(let old)? = stored { value.password = old.password } else { value.password = nil }
            }
            return .smtp(value)
        case (.ses(let value), .ses(let old)?): return .ses(value.restoringSecrets(from: old))
        case (.ses(let value), _): return .ses(value.restoringSecrets(from: nil))
        case (.sendgrid(let value), .sendgrid(let old)?): return .sendgrid(value.restoringSecrets(from: old))
        case (.sendgrid(let value), _): return .sendgrid(value.restoringSecrets(from: nil))
        case (.postmark(let value), .postmark(let old)?): return .postmark(value.restoringSecrets(from: old))
        case (.postmark(let value), _): return .postmark(value.restoringSecrets(from: nil))
        case (.mailgun(let value), .mailgun(let old)?): return .mailgun(value.restoringSecrets(from: old))
        case (.mailgun(let value), _): return .mailgun(value.restoringSecrets(from: nil))
        }
    }

    /// Every problem, named under `prefix` (`transports[1].ses.region`). `policy` judges a tenant's hosts and
    /// endpoints; nil (the server's own configuration) trusts the operator.
    public func problems(prefix: String, policy: DestinationPolicy?) -> [FieldError] {
        let path = "\(prefix).\(kind)"
        switch self {
        case .smtp(let value):
            return value.problems(prefix: path) + (policy.map { value.destinationProblems(prefix: path, policy: $0) } ?? [])
        case .ses(let value): return value.problems(prefix: path, policy: policy)
        case .sendgrid(let value): return value.problems(prefix: path, policy: policy)
        case .postmark(let value): return value.problems(prefix: path, policy: policy)
        case .mailgun(let value): return value.problems(prefix: path, policy: policy)
        }
    }
}
