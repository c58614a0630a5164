import Foundation

/// Amazon SES v2 `SendEmail` with raw content: the MIME bytes Herald built (its DKIM signature and headers
/// intact), signed with Signature Version 4. Each email is tagged with its Herald message id, which SES echoes in
/// its bounce and complaint notifications.
public struct SESClient: EmailProviderClient {
    public var configuration: SESConfiguration

    public init(configuration: SESConfiguration) {
        self.configuration = configuration
    }

    public var name: String { "ses \(configuration.baseURL)" }
    public var timeoutSeconds: Double { configuration.timeoutSeconds }
    public var trustedCertificatesPEM: String? { configuration.trustedCertificatesPEM }

    struct Body: Encodable {
        struct Destination: Encodable { var ToAddresses: [String] }
        struct Raw: Encodable { var Data: String }
        struct Content: Encodable { var Raw: Raw }
        struct Tag: Encodable {
            var Name: String
            var Value: String
        }
        var FromEmailAddress: String?
        var Destination: Destination
        var Content: Content
        var ConfigurationSetName: String?
        var EmailTags: [Tag]?
    }

    public func request(for email: OutboundEmail, now: Date) throws -> ProviderRequest {
        guard let url = URL(string: configuration.baseURL + "/v2/email/outbound-emails") else {
            throw EmailProviderError.invalidEndpoint(configuration.baseURL)
        }
        // SES allows tag names and values of letters, digits, `_` and `-` only; anything else is left out.
        let tags = email.tags.sorted { $0.key < $1.key }.filter { Self.isTagText($0.key) && Self.isTagText($0.value) }
            .map { Body.Tag(Name: $0.key, Value: $0.value) }
        let body = Body(
            FromEmailAddress: email.message?.from.address, Destination: .init(ToAddresses: [email.recipient]),
            Content: .init(Raw: .init(Data: Data(email.bytes).base64EncodedString())),
            ConfigurationSetName: configuration.configurationSet, EmailTags: tags.isEmpty ? nil : tags)
        let bytes = Array(try JSONEncoder().encode(body))
        let headers = [("Content-Type", "application/json")]
        let signer = AWSSignatureV4(
            accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey, region: configuration.region,
            service: "ses")
        return ProviderRequest(url: url, headers: headers + signer.sign(method: "POST", url: url, headers: headers, body: bytes, date: now), body: bytes)
    }

    /// SES names its error in `x-amzn-ErrorType` (`MessageRejected`, `TooManyRequestsException` …, sometimes
    /// followed by `:` and a URL). A rejected message or address is the email's; a paused or suspended account, an
    /// unverified sender domain and throttling are the provider's.
    public func outcome(for answer: OutboundHTTPAnswer) -> ProviderAnswer {
        let type = answer.headers.first { $0.0.lowercased() == "x-amzn-errortype" }.map { String($0.1.split(separator: ":").first ?? "") } ?? ""
        let detail = "HTTP \(answer.status) \(type): \(answer.body.prefix(300))"
        switch (answer.status, type) {
        case (200..<300, _):
            let id = (try? JSONDecoder().decode([String: String].self, from: Data(answer.body.utf8)))?["MessageId"]
            return .accepted("MessageId \(id ?? "?")")
        case (_, "MessageRejected"), (_, "BadRequestException"), (_, "NotFoundException"):
            return .refused(detail)
        case (_, "AccountSuspendedException"), (_, "SendingPausedException"), (_, "MailFromDomainNotVerifiedException"):
            return .unavailable(detail, retryAfter: nil)
        default:
            return Self.standardOutcome(answer) { _ in "" }.withDetail(detail)
        }
    }

    static func isTagText(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 256 && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }
    }
}
