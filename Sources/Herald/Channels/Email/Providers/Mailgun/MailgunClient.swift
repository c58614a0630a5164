import Foundation

/// Mailgun's `messages.mime`: the MIME bytes Herald built go as they are (its DKIM signature intact), as a
/// `multipart/form-data` upload with the recipient and `v:` variables naming the message and tenant, which
/// Mailgun echoes in its webhooks' `user-variables`. Mailgun's own tracking is switched off.
public struct MailgunClient: EmailProviderClient {
    public var configuration: MailgunConfiguration

    public init(configuration: MailgunConfiguration) {
        self.configuration = configuration
    }

    public var name: String { "mailgun \(configuration.baseURL)/\(configuration.domain)" }
    public var timeoutSeconds: Double { configuration.timeoutSeconds }
    public var trustedCertificatesPEM: String? { configuration.trustedCertificatesPEM }

    public func request(for email: OutboundEmail, now: Date) throws -> ProviderRequest {
        guard let url = URL(string: "\(configuration.baseURL)/v3/\(configuration.domain)/messages.mime") else {
            throw EmailProviderError.invalidEndpoint(configuration.baseURL)
        }
        var form = MultipartForm(boundary: "herald-" + email.messageID.utf8.hexString.prefix(40))
        form.addField("to", email.recipient)
        for (name, value) in email.tags.sorted(by: { $0.key < $1.key }) { form.addField("v:\(name)", value) }
        form.addField("o:tracking", "no")
        form.addFile("message", filename: "message.mime", contentType: "message/rfc822", content: email.bytes)
        let credentials = Data("api:\(configuration.apiKey)".utf8).base64EncodedString()
        return ProviderRequest(
            url: url, headers: [("Authorization", "Basic \(credentials)"), ("Content-Type", form.contentType)], body: form.finished())
    }

    /// 200 is taken; 400 is this email's; 401, 404 (the domain is not Mailgun's), 429 and 5xx are Mailgun's.
    public func outcome(for answer: OutboundHTTPAnswer) -> ProviderAnswer {
        if answer.status == 404 { return .unavailable("HTTP 404: the domain \(configuration.domain) is unknown to Mailgun", retryAfter: nil) }
        return Self.standardOutcome(answer) { answer in
            "id \((try? JSONDecoder().decode([String: String].self, from: Data(answer.body.utf8)))?["id"] ?? "?")"
        }
    }
}
