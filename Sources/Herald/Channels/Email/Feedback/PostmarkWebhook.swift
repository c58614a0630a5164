import Foundation

/// A Postmark bounce or spam complaint webhook: one JSON object per request, `RecordType` `Bounce` or
/// `SpamComplaint`, the address in `Email` and the message's metadata echoed in `Metadata` (`herald_message`,
/// `herald_tenant`).
///
/// Postmark signs nothing; its documented protection is HTTP Basic credentials written into the webhook URL
/// (`https://user:password@herald.example/hooks/email/postmark`), checked by ``credentialsMatch(_:username:password:)``.
///
/// Bounce types, as Postmark's bounce type table describes them:
/// - hard (the address is dead, Postmark deactivates it): `HardBounce`, `BadEmailAddress`, `ManuallyDeactivated`;
/// - soft (delivery failed for now, or a filter refused it): `Transient`, `SoftBounce`, `DnsError`,
///   `SpamNotification`, `Blocked`;
/// - complaint: `SpamComplaint` (as a `Bounce` type or a `SpamComplaint` record);
/// - no feedback: auto-responders, (un)subscribe requests, address changes, challenge verifications, virus
///   notifications, DMARC policy and API errors, and any type Postmark adds later.
public enum PostmarkWebhook {
    public static let hardTypes: Set<String> = ["HardBounce", "BadEmailAddress", "ManuallyDeactivated"]
    public static let softTypes: Set<String> = ["Transient", "SoftBounce", "DnsError", "SpamNotification", "Blocked"]

    /// The feedback in one webhook (none for other record or bounce types). Throws `.malformed` when the body is
    /// not a JSON object.
    public static func feedback(in body: [UInt8]) throws(EmailWebhookError) -> [ProviderFeedback] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .object = value else {
            throw .malformed("the body is not a Postmark webhook (a JSON object)")
        }
        let record = value["RecordType"]?.stringValue
        let type = value["Type"]?.stringValue ?? ""
        let kind: EmailFeedback.Kind
        switch record {
        case "SpamComplaint": kind = .complaint
        case "Bounce":
            if type == "SpamComplaint" {
                kind = .complaint
            } else if hardTypes.contains(type) {
                kind = .hardBounce
            } else if softTypes.contains(type) {
                kind = .softBounce
            } else {
                return []
            }
        default: return []
        }
        guard let address = ProviderFeedback.address(value["Email"]) else { return [] }
        let why = [value["Details"], value["Description"]].lazy.compactMap { ProviderFeedback.text($0) }.first { !$0.isEmpty }
        let what = kind == .complaint ? "spam complaint" : ProviderFeedback.clean(type, limit: 40)
        return [
            ProviderFeedback(
                provider: .postmark, kind: kind, address: address, messageID: ProviderFeedback.messageID(value["Metadata"]?["herald_message"]),
                tenantID: ProviderFeedback.text(value["Metadata"]?["herald_tenant"]).map { ProviderFeedback.clean($0, limit: 128) },
                status: kind == .complaint ? "abuse" : ProviderFeedback.enhancedStatus(.string(statusCode(in: why ?? "") ?? "")),
                detail: ProviderFeedback.detail(.postmark, what, kind == .complaint ? nil : why),
                eventID: eventID(of: value, record: record ?? ""))
        ]
    }

    /// The bounce's identity for taking it once: Postmark's message id, the record and when it bounced (its numeric
    /// `ID` is a 64-bit number a JSON double cannot hold exactly, so two bounces could share one).
    static func eventID(of value: JSONValue, record: String) -> String? {
        guard let message = value["MessageID"]?.stringValue, let at = value["BouncedAt"]?.stringValue else { return nil }
        return "postmark:\(record.prefix(20)):\(message.prefix(64)):\(at.prefix(40))"
    }

    /// Whether an `Authorization` header carries exactly these Basic credentials. The comparison takes the same
    /// time wherever the strings differ.
    public static func credentialsMatch(_ authorization: String?, username: String, password: String) -> Bool {
        guard let authorization, authorization.utf8.count <= 4096 else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return false }
        let expected = Array("\(username):\(password)".utf8)
        return constantTimeEquals(Array(decoded), expected)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// The first enhanced status code in a bounce's details (`smtp;550 5.1.1 The email account…` gives `5.1.1`).
    static func statusCode(in text: String) -> String? {
        for word in text.prefix(300).split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "#" }) {
            if let status = ProviderFeedback.enhancedStatus(.string(String(word))) { return status }
        }
        return nil
    }
}
