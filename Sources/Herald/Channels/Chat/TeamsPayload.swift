/// A Microsoft Teams workflow webhook's message: a `message` with one Adaptive Card attachment holding
/// the title (bold, larger) and the text, each a wrapping `TextBlock`.
///
/// Workflows take a card of at most 28 KB, so the text is cut (with an ellipsis) well before that. A
/// workflow answers `202 Accepted` as soon as it has the request: the card is posted by the flow later,
/// and a flow that fails afterwards is only visible in its run history.
///
/// ```json
/// {"type": "message",
///  "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
///                   "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
///                               "version": "1.4", "body": [{"type": "TextBlock", "text": "Gate", "weight": "Bolder", "size": "Medium", "wrap": true},
///                                                          {"type": "TextBlock", "text": "Ana is at the gate", "wrap": true}]}}]}
/// ```
public enum TeamsPayload {
    public static let contentType = "application/vnd.microsoft.card.adaptive"
    /// Room for the text inside the 28 KB card limit, counted in UTF-16 units (each at most 3 UTF-8 bytes).
    public static let textLimit = 8000
    public static let titleLimit = 500

    public static func body(for message: ChatMessage) -> JSONValue {
        var blocks: [JSONValue] = []
        if let title = message.title {
            blocks.append([
                "type": "TextBlock", "text": .string(title.truncated(toUTF16: titleLimit)), "weight": "Bolder", "size": "Medium", "wrap": true,
            ])
        }
        blocks.append(["type": "TextBlock", "text": .string(message.text.truncated(toUTF16: textLimit)), "wrap": true])
        let card: JSONValue = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": .array(blocks),
        ]
        return ["type": "message", "attachments": [["contentType": .string(contentType), "contentUrl": nil, "content": card]]]
    }
}
