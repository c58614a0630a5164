import Foundation

/// A chat message before any service's formatting: the rendered `text` of the event type's chat
/// template and its optional `title`. Both are plain text; each service's payload escapes them for its
/// own markup, so a template renders once and fails over from Slack to Teams unchanged.
public struct ChatMessage: Sendable, Hashable {
    public var title: String?
    public var text: String

    public init(title: String? = nil, text: String) {
        let trimmed = title?.trimmingCharacters(in: .whitespacesAndNewlines)
        self.title = trimmed?.isEmpty == false ? trimmed : nil
        self.text = text
    }

    public init(_ content: RenderedContent) {
        self.init(title: content["title"], text: content["text"] ?? "")
    }
}
