/// Slack's incoming-webhook message: `text` (what notifications and old clients show) and Block Kit
/// `blocks` (a `header` for the title, then `section`s of mrkdwn).
///
/// Text is escaped as Slack's formatting guide asks (`&`, `<`, `>`), so a payload value can neither
/// mention `<!channel>` nor forge a link. Slack refuses a header over 150 characters, a section over
/// 3,000 and a message over 50 blocks; long text is split into sections at line breaks where it can be,
/// and what still does not fit is cut with an ellipsis.
///
/// ```json
/// {"text": "Gate: Ana &amp; Ben are at the &lt;north&gt; gate",
///  "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Gate", "emoji": true}},
///             {"type": "section", "text": {"type": "mrkdwn", "text": "Ana &amp; Ben are at the &lt;north&gt; gate"}}]}
/// ```
public enum SlackPayload {
    public static let headerLimit = 150
    public static let sectionLimit = 3000
    public static let blockLimit = 50
    /// The fallback `text`; Slack shows it in notifications, where a few lines are all anyone reads.
    public static let fallbackLimit = 3000

    public static func body(for message: ChatMessage) -> JSONValue {
        var blocks: [JSONValue] = []
        if let title = message.title {
            blocks.append(["type": "header", "text": ["type": "plain_text", "text": .string(title.truncated(toUTF16: headerLimit)), "emoji": true]])
        }
        let sections = self.sections(escaped(message.text), limit: sectionLimit, maximum: blockLimit - blocks.count)
        for section in sections {
            blocks.append(["type": "section", "text": ["type": "mrkdwn", "text": .string(section)]])
        }
        var fallback = message.text
        if let title = message.title { fallback = title + ": " + fallback }
        return ["text": .string(escapedPrefix(fallback, limit: fallbackLimit)), "blocks": .array(blocks)]
    }

    /// `&`, `<` and `>` as Slack's entities; everything else is left for mrkdwn (`*bold*`, `_italic_`).
    public static func escaped(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The escaped text cut to `limit`, never inside an entity.
    static func escapedPrefix(_ text: String, limit: Int) -> String {
        sections(escaped(text), limit: limit, maximum: 1).first ?? ""
    }

    /// Splits escaped text into pieces of at most `limit` UTF-16 units: at the last line break in the
    /// second half of a piece, else at the last space, else anywhere outside an `&…;` entity. With more
    /// than `maximum` pieces, the last one kept ends in an ellipsis.
    static func sections(_ text: String, limit: Int, maximum: Int) -> [String] {
        guard maximum > 0 else { return [] }
        if text.isEmpty { return [] }
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.utf16.count <= limit {
                pieces.append(String(rest))
                break
            }
            if pieces.count == maximum - 1 {
                pieces.append(cut(rest, limit: limit - 1) + "…")
                return pieces
            }
            let piece = cut(rest, limit: limit)
            pieces.append(piece.trimmingTrailingNewlines)
            rest = rest.dropFirst(piece.count).drop { $0 == "\n" }
        }
        return pieces
    }

    /// The longest start of `text` within `limit` units that ends at a good place to break.
    private static func cut(_ text: Substring, limit: Int) -> String {
        var units = 0
        var end = text.startIndex
        var lastNewline: String.Index?
        var lastSpace: String.Index?
        var entityStart: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if units + character.utf16.count > limit { break }
            units += character.utf16.count
            let next = text.index(after: index)
            if character == "&" { entityStart = index }
            if character == ";" { entityStart = nil }
            if entityStart == nil {
                end = next
                if character == "\n" { lastNewline = next }
                if character == " " { lastSpace = next }
            }
            index = next
        }
        if index == text.endIndex { return String(text) }
        let half = text.index(text.startIndex, offsetBy: text[..<end].count / 2)
        if let lastNewline, lastNewline > half { return String(text[..<lastNewline]) }
        if let lastSpace, lastSpace > half { return String(text[..<lastSpace]) }
        return String(text[..<end])
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var copy = self
        while copy.last == "\n" { copy.removeLast() }
        return copy
    }
}
