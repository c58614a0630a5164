import Foundation

/// Postmark's `/email`. Postmark takes the message as parts (and signs with its own DKIM key), so Herald sends the
/// parts it composed with Postmark's tracking switched off, and `Metadata` naming the message and tenant, which
/// Postmark echoes on bounce and spam-complaint webhooks.
public struct PostmarkClient: EmailProviderClient {
    public var configuration: PostmarkConfiguration

    public init(configuration: PostmarkConfiguration) {
        self.configuration = configuration
    }

    public var name: String { "postmark \(configuration.baseURL)" }
    public var timeoutSeconds: Double { configuration.timeoutSeconds }
    public var trustedCertificatesPEM: String? { configuration.trustedCertificatesPEM }

    struct Body: Encodable {
        struct Header: Encodable {
            var Name: String
            var Value: String
        }
        struct Attachment: Encodable {
            var Name: String
            var Content: String
            var ContentType: String
        }
        var From: String
        var To: String
        var ReplyTo: String?
        var Subject: String
        var HtmlBody: String?
        var TextBody: String
        var Headers: [Header]?
        var Metadata: [String: String]?
        var MessageStream: String?
        var TrackOpens: Bool
        var TrackLinks: String
        var Attachments: [Attachment]?
    }

    public func request(for email: OutboundEmail, now: Date) throws -> ProviderRequest {
        guard let message = email.message else { throw EmailProviderError.missingParts }
        guard let url = URL(string: configuration.baseURL + "/email") else { throw EmailProviderError.invalidEndpoint(configuration.baseURL) }
        let parts = EmailParts(message)
        let recipient = message.to.first { $0.address == email.recipient } ?? (try? EmailAddress(email.recipient))
        let body = Body(
            From: EmailParts.display(message.from), To: recipient.map(EmailParts.display) ?? email.recipient,
            ReplyTo: message.replyTo.map(EmailParts.display), Subject: message.subject, HtmlBody: parts.html, TextBody: parts.text,
            Headers: parts.headers.isEmpty ? nil : parts.headers.map { .init(Name: $0.name, Value: $0.value) },
            Metadata: email.tags.isEmpty ? nil : email.tags, MessageStream: configuration.messageStream, TrackOpens: false, TrackLinks: "None",
            Attachments: parts.attachments.isEmpty
                ? nil
                : parts.attachments.map { .init(Name: $0.filename, Content: $0.content.base64EncodedString(), ContentType: $0.contentType) })
        return ProviderRequest(
            url: url,
            headers: [
                ("X-Postmark-Server-Token", configuration.serverToken), ("Content-Type", "application/json"), ("Accept", "application/json"),
            ],
            body: Array(try JSONEncoder().encode(body)))
    }

    struct Answer: Decodable {
        var ErrorCode: Int?
        var Message: String?
        var MessageID: String?
    }

    /// Postmark answers 422 with an `ErrorCode` for most refusals: 300 (invalid request) and 406 (inactive
    /// recipient) are the email's; 405 (out of credits), 412 (account pending) and 10 (bad token) the account's.
    public func outcome(for answer: OutboundHTTPAnswer) -> ProviderAnswer {
        let parsed = try? JSONDecoder().decode(Answer.self, from: Data(answer.body.utf8))
        let detail = "HTTP \(answer.status) ErrorCode \(parsed?.ErrorCode ?? -1): \(parsed?.Message ?? String(answer.body.prefix(300)))"
        if (200..<300).contains(answer.status), parsed?.ErrorCode ?? 0 == 0 { return .accepted("MessageID \(parsed?.MessageID ?? "?")") }
        switch parsed?.ErrorCode {
        case 10?, 405?, 412?: return .unavailable(detail, retryAfter: nil)
        case .some where answer.status == 422: return .refused(detail)
        default: return Self.standardOutcome(answer) { _ in "" }.withDetail(detail)
        }
    }
}
