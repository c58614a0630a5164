import Foundation

/// A Mailgun webhook: one JSON object, `{"signature": {"timestamp", "token", "signature"}, "event-data": {…}}`,
/// with the message's variables echoed in `event-data.user-variables` (`herald_message`, `herald_tenant`).
///
/// `failed` with severity `permanent` is a hard bounce (Mailgun has given up on the address: a refusal, or an
/// address already on its bounce list), with severity `temporary` a soft one; `complained` is a complaint. Every
/// other event (delivered, opened, clicked, unsubscribed, accepted) is no feedback.
public struct MailgunWebhook: Sendable, Hashable {
    /// The signed part, checked by ``MailgunSignatureVerifier``.
    public var timestamp: String
    public var token: String
    public var signature: String
    /// The feedback in `event-data` (empty for other events).
    public var feedback: [ProviderFeedback]

    /// Reads a webhook. Not a JSON object: `.malformed`; no signature block: `.unauthenticated`.
    public static func parse(_ body: [UInt8]) throws(EmailWebhookError) -> MailgunWebhook {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .object = value else {
            throw .malformed("the body is not a Mailgun webhook (a JSON object)")
        }
        guard let signed = value["signature"], let timestamp = ProviderFeedback.text(signed["timestamp"]), let token = signed["token"]?.stringValue,
            let signature = signed["signature"]?.stringValue
        else { throw .unauthenticated("the Mailgun webhook has no signature (timestamp, token, signature)") }
        return MailgunWebhook(timestamp: timestamp, token: token, signature: signature, feedback: feedback(of: value["event-data"]))
    }

    static func feedback(of event: JSONValue?) -> [ProviderFeedback] {
        guard let event, let name = event["event"]?.stringValue, let address = ProviderFeedback.address(event["recipient"]) else { return [] }
        let kind: EmailFeedback.Kind
        let what: String
        switch name {
        case "failed":
            let severity = event["severity"]?.stringValue
            guard severity == "permanent" || severity == "temporary" else { return [] }
            kind = severity == "permanent" ? .hardBounce : .softBounce
            let reason = event["reason"]?.stringValue.map { " (\(ProviderFeedback.clean($0, limit: 40)))" } ?? ""
            what = "\(severity ?? "") failure\(reason)"
        case "complained":
            kind = .complaint
            what = "complaint"
        default:
            return []
        }
        let status = event["delivery-status"]
        let why = [status?["message"], status?["description"]].lazy.compactMap { ProviderFeedback.text($0) }.first { !$0.isEmpty }
        let code = ProviderFeedback.text(status?["code"]).map { "\($0) " } ?? ""
        let variables = event["user-variables"]
        return [
            ProviderFeedback(
                provider: .mailgun, kind: kind, address: address, messageID: ProviderFeedback.messageID(variables?["herald_message"]),
                tenantID: ProviderFeedback.text(variables?["herald_tenant"]).map { ProviderFeedback.clean($0, limit: 128) },
                status: kind == .complaint ? "abuse" : ProviderFeedback.enhancedStatus(status?["enhanced-code"]),
                detail: ProviderFeedback.detail(.mailgun, what, kind == .complaint ? nil : why.map { code + $0 }),
                eventID: ProviderFeedback.text(event["id"]).map { "mailgun:" + $0.prefix(128) })
        ]
    }
}
