import Foundation

/// One push notification as the templates rendered it, before any provider's wire format: the same
/// notification goes to an iPhone through APNs, to an Android phone through FCM and to a browser
/// through Web Push, each mapped by its sender.
public struct PushNotification: Sendable, Hashable {
    public var title: String
    public var body: String
    public var subtitle: String?
    /// The app icon's badge count.
    public var badge: Int?
    public var sound: String?
    public var image: String?
    /// Opened when the notification is tapped.
    public var url: String?
    /// The template's `data` part, a JSON object handed to the app.
    public var data: [String: JSONValue]
    /// Groups notifications on the lock screen (APNs `thread-id`, the web notification `tag`).
    public var thread: String?
    /// A later notification with the same key replaces this one (`apns-collapse-id`, FCM `collapse_key`, Web Push `Topic`).
    public var collapseKey: String?
    /// Critical event types go with each platform's highest priority, so they reach a phone during quiet hours.
    public var isCritical: Bool
    /// The message's public id and event type, so the app can tell Herald what was opened.
    public var messageID: String
    public var eventType: String

    /// Badges are small counts; anything else in the part is refused when rendered.
    static let badgeRule = NumberRule.whole(0...99_999)
    /// A `data` part is kept small: every provider caps the whole payload at 4 KB.
    static let maximumDataBytes = 3072

    /// The notification for a rendered message, or a reason the parts cannot make one.
    public static func make(content: RenderedContent, priority: Priority, messageID: String, eventType: String) -> Result<PushNotification, PushContentError> {
        func text(_ part: String) -> String? {
            guard let value = content[part]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        var badge: Int?
        if let value = text("badge") {
            guard let number = Int(value), badgeRule.problem(number) == nil else {
                return .failure(PushContentError(part: "badge", reason: "rendered to '\(value.prefix(40))', not \(badgeRule)"))
            }
            badge = number
        }
        var data: [String: JSONValue] = [:]
        if let value = text("data") {
            guard value.utf8.count <= maximumDataBytes else {
                return .failure(PushContentError(part: "data", reason: "is \(value.utf8.count) bytes; at most \(maximumDataBytes) fit a push"))
            }
            guard case .object(let object) = try? JSONValue.parse(value) else {
                return .failure(PushContentError(part: "data", reason: "did not render to a JSON object"))
            }
            data = object
        }
        return .success(
            PushNotification(
                title: content["title"] ?? "", body: content["body"] ?? "", subtitle: text("subtitle"), badge: badge, sound: text("sound"),
                image: text("image"), url: text("url"), data: data, thread: text("thread"), collapseKey: text("collapse").map { String($0.prefix(64)) },
                isCritical: priority == .critical, messageID: messageID, eventType: eventType))
    }
}

/// Why a message's rendered parts cannot be a push notification.
public struct PushContentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var part: String
    public var reason: String
    public var description: String { "the push template's \(part) \(reason)" }
}
