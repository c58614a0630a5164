import Foundation

/// SendGrid v3 `mail/send`. SendGrid takes the message as parts and writes the MIME itself (and signs it with the
/// account's DKIM key), so Herald sends the parts it composed: sender, recipient, subject, text and HTML (with
/// Herald's own tracking already applied, SendGrid's switched off), Herald's headers, and `custom_args` naming the
/// message and tenant, which SendGrid echoes on every event.
public struct SendGridClient: EmailProviderClient {
    public var configuration: SendGridConfiguration

    public init(configuration: SendGridConfiguration) {
        self.configuration = configuration
    }

    public var name: String { "sendgrid \(configuration.baseURL)" }
    public var timeoutSeconds: Double { configuration.timeoutSeconds }
    public var trustedCertificatesPEM: String? { configuration.trustedCertificatesPEM }

    /// Headers SendGrid writes itself and refuses in `headers`.
    static let reservedHeaders: Set<String> = [
        "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding", "to", "from", "subject",
        "reply-to", "cc", "bcc",
    ]

    struct Body: Encodable {
        struct Address: Encodable {
            var email: String
            var name: String?
        }
        struct Personalization: Encodable { var to: [Address] }
        struct Content: Encodable {
            var type: String
            var value: String
        }
        struct Attachment: Encodable {
            var content: String
            var filename: String
            var type: String
            var disposition: String
        }
        struct Switch: Encodable { var enable: Bool }
        struct Tracking: Encodable {
            var click_tracking: Switch
            var open_tracking: Switch
            var subscription_tracking: Switch
        }
        var personalizations: [Personalization]
        var from: Address
        var reply_to: Address?
        var subject: String
        var content: [Content]
        var headers: [String: String]?
        var custom_args: [String: String]?
        var attachments: [Attachment]?
        var tracking_settings: Tracking
    }

    public func request(for email: OutboundEmail, now: Date) throws -> ProviderRequest {
        guard let message = email.message else { throw EmailProviderError.missingParts }
        guard let url = URL(string: configuration.baseURL + "/v3/mail/send") else { throw EmailProviderError.invalidEndpoint(configuration.baseURL) }
        let parts = EmailParts(message)
        var headers: [String: String] = [:]
        for header in parts.headers where !Self.reservedHeaders.contains(header.name.lowercased()) { headers[header.name] = header.value }
        let recipient = message.to.first { $0.address == email.recipient }
        var content = [Body.Content(type: "text/plain", value: parts.text)]
        if let html = parts.html { content.append(Body.Content(type: "text/html", value: html)) }
        let body = Body(
            personalizations: [.init(to: [.init(email: email.recipient, name: recipient?.name)])],
            from: .init(email: message.from.address, name: message.from.name),
            reply_to: message.replyTo.map { .init(email: $0.address, name: $0.name) }, subject: message.subject, content: content,
            headers: headers.isEmpty ? nil : headers, custom_args: email.tags.isEmpty ? nil : email.tags,
            attachments: parts.attachments.isEmpty
                ? nil
                : parts.attachments.map {
                    .init(content: $0.content.base64EncodedString(), filename: $0.filename, type: $0.contentType, disposition: "attachment")
                },
            tracking_settings: .init(click_tracking: .init(enable: false), open_tracking: .init(enable: false), subscription_tracking: .init(enable: false)))
        return ProviderRequest(
            url: url, headers: [("Authorization", "Bearer \(configuration.apiKey)"), ("Content-Type", "application/json")],
            body: Array(try JSONEncoder().encode(body)))
    }

    /// 202 is taken (`X-Message-Id` names it); 400 and 413 are this email's; 401/403, 429 and 5xx SendGrid's.
    public func outcome(for answer: OutboundHTTPAnswer) -> ProviderAnswer {
        Self.standardOutcome(answer) { answer in
            "X-Message-Id \(answer.headers.first { $0.0.lowercased() == "x-message-id" }?.1 ?? "?")"
        }
    }
}
