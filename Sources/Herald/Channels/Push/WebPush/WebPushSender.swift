import Foundation

/// Delivers one message to one browser through its push service (RFC 8030 §5): the payload encrypted for the
/// subscription (RFC 8291, ``WebPushEncryption``), signed for with the tenant's VAPID key (RFC 8292), and POSTed
/// to the subscription's endpoint through ``OutboundHTTPClient``, so the ``DestinationPolicy`` vets every
/// endpoint (an app supplies it, and could otherwise aim Herald at the private network).
///
/// Keep one sender per process (or per channel) and share it: it holds the VAPID tokens it has signed, reusing
/// each for the push service it was made for until an hour before it expires.
///
/// What the push service answers becomes a ``PushDeviceOutcome``:
/// - 200, 201 (RFC 8030's answer), 202: accepted; the detail carries the `Location` of the push message resource;
/// - 404, 410: the subscription has expired or been unsubscribed; it never comes back, so deactivate the device;
/// - 429, 408 and 5xx, or no answer: transient, after `Retry-After` (seconds or an HTTP date) when given;
/// - 400, 401, 403, 413 and any other status: permanent for this request as it stands (a bad token or key
///   mismatch, a payload too large); the detail has the status and the start of the body.
public struct WebPushSender: Sendable {
    /// RFC 8030 §5.4: a topic is at most 32 characters of the base64url alphabet.
    public static let maximumTopicLength = 32

    public let client: OutboundHTTPClient
    let tokens: VAPIDTokenCache

    public init(client: OutboundHTTPClient) {
        self.client = client
        self.tokens = VAPIDTokenCache()
    }

    /// Encrypts `payload` for `subscription` and asks its push service to deliver it. Never throws: a payload or
    /// topic that cannot be sent is a permanent failure, a refused or unreachable endpoint is its own outcome.
    ///
    /// - Parameters:
    ///   - subject: the VAPID `sub`, a `mailto:` or `https:` URL where the push service can reach the sender.
    ///   - ttlSeconds: how long the push service keeps the message for a browser that is offline (0: deliver now
    ///     or drop). Negative values are sent as 0.
    ///   - topic: replaces an undelivered earlier message with the same topic (RFC 8030 §5.4).
    public func send(
        _ payload: [UInt8], to subscription: WebPushSubscription, vapid: VAPIDKey, subject: String, ttlSeconds: Int, urgency: WebPushUrgency,
        topic: String?
    ) async -> PushDeviceOutcome {
        if let problem = WebPushSubscription.endpointProblem(subscription.endpoint) { return .permanentFailure("the endpoint \(problem)") }
        guard let url = URL(string: subscription.endpoint), let audience = VAPIDKey.audience(for: url) else {
            return .permanentFailure("the endpoint must be an absolute https URL")
        }
        if let topic, let problem = Self.topicProblem(topic) { return .permanentFailure("the topic \(problem)") }
        let body: [UInt8]
        let authorization: String
        do {
            body = try WebPushEncryption.encrypt(payload, for: subscription)
            authorization = try tokens.authorization(audience: audience, subject: subject, key: vapid)
        } catch {
            return .permanentFailure("\(error)")
        }
        var headers = [
            ("Content-Encoding", "aes128gcm"), ("Content-Type", "application/octet-stream"), ("TTL", String(max(0, ttlSeconds))),
            ("Urgency", urgency.rawValue), ("Authorization", authorization),
        ]
        if let topic { headers.append(("Topic", topic)) }
        switch await client.send(.POST, to: url, headers: headers, body: body) {
        case .answered(let answer):
            if answer.status == 401 || answer.status == 403 { tokens.invalidate(audience: audience, subject: subject, key: vapid) }
            return Self.outcome(for: answer, host: url.displayHost)
        case .failed(let reason):
            return .transientFailure("no answer from \(url.displayHost): \(reason)", retryAfter: nil)
        case .refused(let reason):
            return .permanentFailure("not sent: \(reason)")
        }
    }

    /// Nil when `topic` may be sent as a `Topic` header; otherwise why not.
    public static func topicProblem(_ topic: String) -> String? {
        if topic.isEmpty { return "must not be empty" }
        if topic.count > maximumTopicLength { return "must be at most \(maximumTopicLength) characters" }
        let allowed = topic.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
        }
        return allowed ? nil : "must use only the base64url alphabet (letters, digits, - and _)"
    }

    /// What a push service's answer means for the device (see the type's documentation). The endpoint's path is
    /// the subscription's secret, so details name only `host`.
    static func outcome(for answer: OutboundHTTPAnswer, host: String, now: Date = Date()) -> PushDeviceOutcome {
        let text = answer.body.trimmingCharacters(in: .whitespacesAndNewlines)
        let summary = "HTTP \(answer.status) from \(host)" + (text.isEmpty ? "" : ": \(text.prefix(200))")
        switch answer.status {
        case 200..<300:
            let location = answer.header("Location").map { ", message \($0)" } ?? ""
            return .accepted("HTTP \(answer.status) from \(host)\(location)")
        case 404, 410:
            return .gone("the subscription has expired or was unsubscribed (\(summary))")
        case 408, 429, 500..<600:
            return .transientFailure(summary, retryAfter: retryAfter(answer.header("Retry-After"), now: now))
        case 401, 403:
            return .permanentFailure("the push service refused the VAPID token, or the subscription belongs to another key (\(summary))")
        case 413:
            return .permanentFailure("the push service refused the payload as too large (\(summary))")
        case 300..<400:
            return .permanentFailure("the push service redirects, and redirects are not followed (\(summary))")
        default:
            return .permanentFailure(summary)
        }
    }

    /// `Retry-After` in seconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Nil when absent or
    /// unreadable; a date in the past is 0.
    static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return Double(text) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
