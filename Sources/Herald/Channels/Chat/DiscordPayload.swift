import Foundation

/// A Discord webhook's message. Without a title the text is the message `content` (at most 2,000
/// characters); with one, it is an embed (title up to 256, description up to 4,096). Longer text is cut
/// with an ellipsis.
///
/// `allowed_mentions` with an empty `parse` list means nothing in the text pings anyone: a payload value
/// of `@everyone`, a role or a user mention shows as text and notifies nobody.
///
/// ```json
/// {"content": "Ana is at the gate", "allowed_mentions": {"parse": []}}
/// ```
public enum DiscordPayload {
    public static let contentLimit = 2000
    public static let embedTitleLimit = 256
    public static let embedDescriptionLimit = 4096

    public static func body(for message: ChatMessage) -> JSONValue {
        let mentions: JSONValue = ["parse": []]
        if let title = message.title {
            let embed: JSONValue = [
                "title": .string(title.truncated(toUTF16: embedTitleLimit)),
                "description": .string(message.text.truncated(toUTF16: embedDescriptionLimit)),
            ]
            return ["embeds": [embed], "allowed_mentions": mentions]
        }
        return ["content": .string(message.text.truncated(toUTF16: contentLimit)), "allowed_mentions": mentions]
    }

    /// Seconds to wait from a 429: the JSON body's `retry_after` (Discord's own, fractional), else the
    /// `Retry-After` header.
    ///
    /// ```json
    /// {"message": "You are being rate limited.", "retry_after": 0.64, "global": false}
    /// ```
    public static func retryAfter(in answer: OutboundHTTPAnswer) -> Double? {
        if let body = try? JSONValue.parse(answer.body), let seconds = body["retry_after"]?.doubleValue { return seconds }
        return answer.retryAfterSeconds
    }
}
