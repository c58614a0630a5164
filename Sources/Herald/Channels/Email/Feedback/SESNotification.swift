import Foundation

/// An Amazon SES bounce or complaint, as SES publishes it to an SNS topic: either a notification of the sending
/// identity (`notificationType`) or an event of a configuration set's event destination (`eventType`). Both carry
/// the same `bounce` / `complaint` and `mail` objects.
///
/// `Permanent` bounces are hard, `Transient` and `Undetermined` soft (they count toward the tenant's threshold),
/// and complaints are complaints, one for each recipient listed. Herald's message id comes from the
/// `herald_message` tag (`mail.tags`, event publishing) or the `X-Herald-Message` header (`mail.headers`, which
/// an identity notification carries only when "include original headers" is on), and its tenant from the
/// `herald_tenant` tag where present. Anything else (deliveries, opens, a message that is not JSON) is no feedback.
public enum SESNotification {
    /// The feedback in the SNS `Message` of an SES notification or event.
    public static func feedback(in message: String) -> [ProviderFeedback] {
        guard message.utf8.count <= SNSMessage.maximumBytes, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(message.utf8)),
            let type = (value["eventType"] ?? value["notificationType"])?.stringValue
        else { return [] }
        let messageID = heraldMessageID(in: value["mail"])
        let tenantID = tag("herald_tenant", in: value["mail"]).map { ProviderFeedback.clean($0, limit: 128) }
        switch type {
        case "Bounce":
            guard let bounce = value["bounce"] else { return [] }
            let bounceType = bounce["bounceType"]?.stringValue ?? "Undetermined"
            let kind: EmailFeedback.Kind = bounceType == "Permanent" ? .hardBounce : .softBounce
            let subType = bounce["bounceSubType"]?.stringValue.map { "/\($0)" } ?? ""
            return recipients(bounce["bouncedRecipients"]).compactMap { recipient in
                guard let address = ProviderFeedback.address(recipient["emailAddress"]) else { return nil }
                return ProviderFeedback(
                    provider: .ses, kind: kind, address: address, messageID: messageID, tenantID: tenantID,
                    status: ProviderFeedback.enhancedStatus(recipient["status"]),
                    detail: ProviderFeedback.detail(.ses, "\(bounceType)\(subType) bounce", ProviderFeedback.text(recipient["diagnosticCode"])))
            }
        case "Complaint":
            guard let complaint = value["complaint"] else { return [] }
            let feedbackType = complaint["complaintFeedbackType"]?.stringValue.map { ProviderFeedback.clean($0, limit: 40).lowercased() }
            let reporter = complaint["userAgent"]?.stringValue
            return recipients(complaint["complainedRecipients"]).compactMap { recipient in
                guard let address = ProviderFeedback.address(recipient["emailAddress"]) else { return nil }
                let what = feedbackType.map { "complaint (\($0))" } ?? "complaint"
                return ProviderFeedback(
                    provider: .ses, kind: .complaint, address: address, messageID: messageID, tenantID: tenantID, status: feedbackType,
                    detail: ProviderFeedback.detail(.ses, what, reporter.map { "reported by \($0)" }))
            }
        default:
            return []
        }
    }

    static func recipients(_ value: JSONValue?) -> [JSONValue] {
        guard case .array(let items)? = value else { return [] }
        return Array(items.prefix(ProviderFeedback.maximumRecipients))
    }

    /// The first value of an SES tag of the original message (event publishing lists each tag's values).
    static func tag(_ name: String, in mail: JSONValue?) -> String? {
        guard case .array(let values)? = mail?["tags"]?[name] else { return nil }
        return values.lazy.compactMap(ProviderFeedback.text).first
    }

    /// The `herald_message` tag, else the `X-Herald-Message` header of the original message.
    static func heraldMessageID(in mail: JSONValue?) -> String? {
        if let id = ProviderFeedback.messageID(tag("herald_message", in: mail).map(JSONValue.string)) { return id }
        guard case .array(let headers)? = mail?["headers"] else { return nil }
        for header in headers.prefix(500) where header["name"]?.stringValue?.lowercased() == "x-herald-message" {
            if let id = ProviderFeedback.messageID(header["value"]) { return id }
        }
        return nil
    }
}
