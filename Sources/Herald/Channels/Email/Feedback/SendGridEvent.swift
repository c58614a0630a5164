import Foundation

/// A batch of SendGrid Event Webhook events: a JSON array, each event an object with `event`, `email` and the
/// message's custom arguments at its top level (`herald_message`, `herald_tenant`).
///
/// - `bounce` with `type` `bounce` is a hard bounce; with `type` `blocked` (the receiving server refused for
///   now: reputation, content, a full mailbox) a soft one.
/// - `dropped` with reason `Bounced Address` is a hard bounce and `Spam Reporting Address` a complaint: SendGrid
///   did not send because its own list says so, and Herald's list should agree. Other drops (unsubscribed, invalid
///   headers) say nothing about the address.
/// - `spamreport` is a complaint. Every other event (processed, delivered, open, click, deferred…) is ignored.
public enum SendGridEvent {
    /// The feedback in a batch. Throws `.malformed` when the body is not a JSON array; events that are not
    /// objects, or name no valid address, are skipped.
    public static func feedback(in body: [UInt8]) throws(EmailWebhookError) -> (feedback: [ProviderFeedback], events: Int) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .array(let events) = value else {
            throw .malformed("the body is not a SendGrid Event Webhook batch (a JSON array of events)")
        }
        return (events.compactMap(feedback(of:)), events.count)
    }

    static func feedback(of event: JSONValue) -> ProviderFeedback? {
        guard case .object = event, let name = event["event"]?.stringValue, let address = ProviderFeedback.address(event["email"]) else {
            return nil
        }
        let reason = ProviderFeedback.text(event["reason"])
        let kind: EmailFeedback.Kind
        let what: String
        switch name {
        case "bounce":
            let type = event["type"]?.stringValue ?? "bounce"
            kind = type == "blocked" ? .softBounce : .hardBounce
            what = type == "blocked" ? "blocked" : "bounce"
        case "dropped":
            switch reason?.lowercased() {
            case "bounced address": kind = .hardBounce
            case "spam reporting address": kind = .complaint
            default: return nil
            }
            what = "dropped"
        case "spamreport":
            kind = .complaint
            what = "spam report"
        default:
            return nil
        }
        return ProviderFeedback(
            provider: .sendgrid, kind: kind, address: address, messageID: ProviderFeedback.messageID(event["herald_message"]),
            tenantID: ProviderFeedback.text(event["herald_tenant"]).map { ProviderFeedback.clean($0, limit: 128) },
            status: kind == .complaint ? "abuse" : ProviderFeedback.enhancedStatus(event["status"]),
            detail: ProviderFeedback.detail(.sendgrid, what, reason),
            eventID: ProviderFeedback.text(event["sg_event_id"]).map { "sendgrid:" + $0.prefix(128) })
    }
}
