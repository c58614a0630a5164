import Foundation

/// In-app content written when an in-app message is delivered into the inbox.
public struct InboxContent: Sendable, Hashable {
    public var title: String
    public var body: String
    public var actionURL: String?

    public init(title: String, body: String, actionURL: String?) {
        self.title = title
        self.body = body
        self.actionURL = actionURL
    }
}
