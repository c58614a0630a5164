import Foundation

/// One bounce or complaint a provider's webhook reported, in the provider-neutral form Herald records: the
/// same `email_feedback` row and suppression rules as a bounce that came back by SMTP.
///
/// The parsers (``SESNotification``, ``SendGridEvent``, ``PostmarkWebhook``, ``MailgunWebhook``) make these from
/// payloads they never trust: every text is bounded and cleaned of control characters, and an address that is
/// not one is no feedback at all.
public struct ProviderFeedback: Sendable, Hashable {
    public var provider: EmailWebhookProvider
    public var kind: EmailFeedback.Kind
    /// The address the provider reported, lowercased.
    public var address: String
    /// Herald's public id of the message (`msg_42`), as the transport tagged it when sending; nil when the event
    /// names none (mail Herald did not send, or tags the provider dropped), and such feedback is ignored.
    public var messageID: String?
    /// The tenant the transport tagged the message with (`herald_tenant`), where the provider echoes it: an event
    /// whose tenant is not its message's is ignored, so a provider account shared by two Herald servers cannot
    /// suppress one's addresses with the other's message ids.
    public var tenantID: String?
    /// The enhanced status code of a bounce (`5.1.1`) when the provider gives a valid one; a complaint's
    /// feedback type (`abuse`).
    public var status: String?
    /// What happened, naming the provider: `Amazon SES Permanent/General bounce: smtp; 550 5.1.1 user unknown`.
    public var detail: String
    /// The provider's own id of the event, where it has one, so a repeated delivery is taken once.
    public var eventID: String?

    public init(
        provider: EmailWebhookProvider, kind: EmailFeedback.Kind, address: String, messageID: String?, tenantID: String? = nil,
        status: String? = nil, detail: String, eventID: String? = nil
    ) {
        self.provider = provider
        self.kind = kind
        self.address = address.lowercased()
        self.messageID = messageID
        self.tenantID = tenantID
        self.status = status
        self.detail = detail
        self.eventID = eventID
    }

    /// The same feedback as the report an SMTP bounce would have made, for ``HeraldEngine``'s one recording path.
    public var report: BounceReport {
        BounceReport(
            kind: kind == .hardBounce ? .hardBounce : kind == .softBounce ? .softBounce : .complaint, recipients: [address],
            status: kind == .complaint ? nil : status, diagnostic: detail, feedbackType: kind == .complaint ? (status ?? "abuse") : nil)
    }

    // MARK: Reading hostile payloads

    /// The longest detail kept, as for an SMTP bounce's diagnostic.
    public static let maximumDetailLength = BounceReport.maximumDiagnosticLength
    /// Most feedback items taken from one recipient list (an SES bounce can name many).
    public static let maximumRecipients = BounceReport.maximumRecipients

    /// `value` as text when it is a string, or a number written as one (`550`); nil for anything else.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .number(let number)?: NumberRule.format(number)
        default: nil
        }
    }

    /// A valid address from a payload, lowercased; nil for anything that is not one (or is absurdly long).
    static func address(_ value: JSONValue?) -> String? {
        guard var text = text(value)?.trimmingCharacters(in: .whitespaces), text.utf8.count <= 320 else { return nil }
        // `Name <a@b>` where a provider echoes a header rather than the envelope recipient.
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            text = String(text[text.index(after: open)..<close])
        }
        guard EmailAddress.problem(in: text) == nil, text.contains("@") else { return nil }
        return text.lowercased()
    }

    /// Herald's message id from a tag or header value, or nil when it cannot be one.
    static func messageID(_ value: JSONValue?) -> String? {
        guard let text = text(value), let id = BounceReport.messageID(text), Message.rowID(id) != nil else { return nil }
        return id
    }

    /// An enhanced status code (`5.1.1`, RFC 3463) or nil.
    static func enhancedStatus(_ value: JSONValue?) -> String? {
        guard let text = text(value)?.trimmingCharacters(in: .whitespaces), text.count <= 11 else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]),
            parts[1...].allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return nil }
        return text
    }

    /// Text for a detail: control characters replaced by spaces, runs of spaces folded, at most `limit` characters.
    static func clean(_ text: String, limit: Int = maximumDetailLength) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars.prefix(limit * 2) {
            let space = scalar.properties.generalCategory == .control || scalar == " "
            if space {
                if !lastWasSpace, !out.isEmpty { out.unicodeScalars.append(" ") }
            } else {
                out.unicodeScalars.append(scalar)
            }
            lastWasSpace = space
        }
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return trimmed.count <= limit ? trimmed : String(trimmed.prefix(limit - 1)) + "…"
    }

    /// `Provider what: why`, cleaned and bounded, leaving out empty parts.
    static func detail(_ provider: EmailWebhookProvider, _ what: String, _ why: String?) -> String {
        let why = why.map { clean($0) }.flatMap { $0.isEmpty ? nil : $0 }
        return clean(why.map { "\(provider.displayName) \(what): \($0)" } ?? "\(provider.displayName) \(what)")
    }
}
