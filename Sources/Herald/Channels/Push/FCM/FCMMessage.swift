import Crypto
import Foundation

/// One notification for FCM HTTP v1, independent of the device it goes to: what becomes the `message` of
/// `messages:send`, with the platform blocks that carry the same intent to each kind of device:
/// `android` (priority, collapse key, tag, TTL), `apns` (for iOS apps registered through Firebase: `apns-priority`,
/// the `aps` dictionary) and `webpush` (`Urgency`, `TTL`).
///
/// Built as a ``JSONValue``, never by pasting strings. FCM's `data` takes strings only, so ``data`` is
/// `[String: String]`.
public struct FCMMessage: Sendable, Hashable {
    public var title: String?
    public var body: String?
    /// An image URL shown with the notification (`notification.image`).
    public var imageURL: String?
    /// Key-value pairs for the app (`data`). FCM reserves `from`, `notification`, `message_type` and keys starting
    /// with `google.` or `gcm.`; it refuses a message that uses them.
    public var data: [String: String]
    /// Herald's priority: critical and high wake the device at once (Android `high`, `apns-priority: 10`, Web Push
    /// `Urgency: high`); medium is `normal` (5 on Apple devices); low is `normal` with Web Push `Urgency: low`.
    public var priority: Priority
    /// A newer message with the same key replaces an undelivered older one (`android.collapse_key`, `apns-collapse-id`).
    public var collapseKey: String?
    /// A shown notification with the same tag is replaced on Android (`android.notification.tag`).
    public var tag: String?
    /// Seconds FCM keeps trying to deliver (Android `ttl`, `apns-expiration`, Web Push `TTL`); nil: FCM's default of four weeks.
    public var timeToLiveSeconds: Int?
    /// iOS: the number on the app's icon, a sound, a Notification Center thread.
    public var badge: Int?
    public var sound: String?
    public var threadID: String?

    public init(
        title: String? = nil, body: String? = nil, imageURL: String? = nil, data: [String: String] = [:], priority: Priority = .medium,
        collapseKey: String? = nil, tag: String? = nil, timeToLiveSeconds: Int? = nil, badge: Int? = nil, sound: String? = nil,
        threadID: String? = nil
    ) {
        self.title = title
        self.body = body
        self.imageURL = imageURL
        self.data = data
        self.priority = priority
        self.collapseKey = collapseKey
        self.tag = tag
        self.timeToLiveSeconds = timeToLiveSeconds
        self.badge = badge
        self.sound = sound
        self.threadID = threadID
    }

    var isUrgent: Bool { priority == .critical || priority == .high }

    /// `{"message": {...}}` for the registration token `token`. `now` dates `apns-expiration`.
    public func requestBody(token: String, now: Date = Date()) -> JSONValue {
        var message: [String: JSONValue] = ["token": .string(token)]
        var notification: [String: JSONValue] = [:]
        if let title { notification["title"] = .string(title) }
        if let body { notification["body"] = .string(body) }
        if let imageURL { notification["image"] = .string(imageURL) }
        if !notification.isEmpty { message["notification"] = .object(notification) }
        if !data.isEmpty { message["data"] = .object(data.mapValues(JSONValue.string)) }

        var android: [String: JSONValue] = ["priority": isUrgent ? "high" : "normal"]
        if let collapseKey { android["collapse_key"] = .string(collapseKey) }
        if let tag { android["notification"] = ["tag": .string(tag)] }
        if let ttl = timeToLiveSeconds { android["ttl"] = .string("\(max(0, ttl))s") }
        message["android"] = .object(android)

        var apnsHeaders: [String: JSONValue] = ["apns-priority": isUrgent ? "10" : "5"]
        if let collapse = APNsRequest(topic: "", collapseID: collapseKey).apnsCollapseID { apnsHeaders["apns-collapse-id"] = .string(collapse) }
        if let ttl = timeToLiveSeconds {
            apnsHeaders["apns-expiration"] = .string(String(Int64(now.timeIntervalSince1970.rounded(.up)) + Int64(max(0, ttl))))
        }
        var aps: [String: JSONValue] = [:]
        if let badge { aps["badge"] = .number(Double(max(0, badge))) }
        if let sound { aps["sound"] = .string(sound) }
        if let threadID { aps["thread-id"] = .string(threadID) }
        var apns: [String: JSONValue] = ["headers": .object(apnsHeaders)]
        if !aps.isEmpty { apns["payload"] = ["aps": .object(aps)] }
        message["apns"] = .object(apns)

        var webpushHeaders: [String: JSONValue] = ["Urgency": isUrgent ? "high" : priority == .low ? "low" : "normal"]
        if let ttl = timeToLiveSeconds { webpushHeaders["TTL"] = .string(String(max(0, ttl))) }
        message["webpush"] = ["headers": .object(webpushHeaders)]
        return ["message": .object(message)]
    }
}
