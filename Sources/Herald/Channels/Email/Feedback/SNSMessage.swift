import Foundation

/// An Amazon SNS message as SNS posts it to an HTTPS subscriber: a notification from a topic, or a subscription
/// (un)confirmation, with the signature that proves SNS sent it.
///
/// Parsing checks the shape only; ``SNSSignatureVerifier`` checks the signature over ``canonicalString``,
/// which is the documented fields of the message's type, in order, each as `Name\nvalue\n`:
///
///     Notification:                      Message, MessageId, Subject (when present), Timestamp, TopicArn, Type
///     (Un)SubscriptionConfirmation:      Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
public struct SNSMessage: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case notification = "Notification"
        case subscriptionConfirmation = "SubscriptionConfirmation"
        case unsubscribeConfirmation = "UnsubscribeConfirmation"
    }

    public var kind: Kind
    public var messageID: String
    public var topicARN: String
    public var subject: String?
    /// The notification itself (for SES, its JSON notification or event record), or SNS's confirmation text.
    public var message: String
    public var timestamp: String
    /// A confirmation's token, and the URL whose GET confirms the subscription.
    public var token: String?
    public var subscribeURL: String?
    /// `1` (SHA1withRSA) or `2` (SHA256withRSA).
    public var signatureVersion: String
    /// Base64 of the RSA signature.
    public var signature: String
    public var signingCertURL: String

    /// SNS messages are at most 256 KB; an SES notification with every header is well within it.
    public static let maximumBytes = 1 << 20

    public init(
        kind: Kind, messageID: String, topicARN: String, subject: String? = nil, message: String, timestamp: String, token: String? = nil,
        subscribeURL: String? = nil, signatureVersion: String, signature: String, signingCertURL: String
    ) {
        self.kind = kind
        self.messageID = messageID
        self.topicARN = topicARN
        self.subject = subject
        self.message = message
        self.timestamp = timestamp
        self.token = token
        self.subscribeURL = subscribeURL
        self.signatureVersion = signatureVersion
        self.signature = signature
        self.signingCertURL = signingCertURL
    }

    /// Reads the body SNS posted. Not JSON, too large, or a field of the type missing: `.malformed`; no
    /// signature: `.unauthenticated` (raw message delivery, which carries none, cannot be verified and so is
    /// not supported). Fields SNS may add are ignored.
    public static func parse(_ body: [UInt8]) throws(EmailWebhookError) -> SNSMessage {
        guard body.count <= maximumBytes else { throw .malformed("an SNS message is at most \(maximumBytes) bytes") }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .object(let fields) = value else {
            throw .malformed("the body is not an Amazon SNS message (a JSON object)")
        }
        func field(_ name: String) throws(EmailWebhookError) -> String {
            guard case .string(let text)? = fields[name] else { throw .malformed("the SNS message has no \(name)") }
            return text
        }
        guard let type = fields["Type"]?.stringValue, let kind = Kind(rawValue: type) else {
            throw .malformed("the SNS message's Type is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation")
        }
        guard case .string(let signature)? = fields["Signature"], case .string(let version)? = fields["SignatureVersion"],
            case .string(let certificateURL)? = fields["SigningCertURL"]
        else {
            throw .unauthenticated("the SNS message is not signed (Signature, SignatureVersion and SigningCertURL); raw message delivery must be off")
        }
        var message = SNSMessage(
            kind: kind, messageID: try field("MessageId"), topicARN: try field("TopicArn"), message: try field("Message"),
            timestamp: try field("Timestamp"), signatureVersion: version, signature: signature, signingCertURL: certificateURL)
        switch kind {
        case .notification:
            message.subject = fields["Subject"]?.stringValue
        case .subscriptionConfirmation, .unsubscribeConfirmation:
            message.token = try field("Token")
            message.subscribeURL = try field("SubscribeURL")
        }
        return message
    }

    /// The bytes SNS signed.
    public var canonicalString: String {
        var pairs: [(String, String)] = [("Message", message), ("MessageId", messageID)]
        switch kind {
        case .notification:
            if let subject { pairs.append(("Subject", subject)) }
            pairs += [("Timestamp", timestamp), ("TopicArn", topicARN), ("Type", kind.rawValue)]
        case .subscriptionConfirmation, .unsubscribeConfirmation:
            pairs += [
                ("SubscribeURL", subscribeURL ?? ""), ("Timestamp", timestamp), ("Token", token ?? ""), ("TopicArn", topicARN),
                ("Type", kind.rawValue),
            ]
        }
        return pairs.map { "\($0.0)\n\($0.1)\n" }.joined()
    }
}
