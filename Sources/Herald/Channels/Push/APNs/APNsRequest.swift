import Crypto
import Foundation

/// One notification for APNs, independent of the device it goes to: what becomes the `apns-*` headers and the JSON
/// payload (`{"aps": {...}, ...custom data}`). Built once per message and sent to each of the subscriber's devices.
///
/// The payload is assembled as a ``JSONValue``, never by pasting strings, so a title with quotes or newlines in it
/// is still one valid JSON string.
public struct APNsRequest: Sendable, Hashable {
    /// `apns-push-type`. Apple requires it, and checks it against the payload.
    public enum PushType: String, Sendable, Hashable, Codable, CaseIterable {
        /// Shown to the user: alert, sound, badge.
        case alert
        /// Wakes the app silently (`content-available`); no alert, sound or badge, and never priority 10.
        case background
    }

    /// `aps.interruption-level` (iOS 15): how far a notification may break through Focus and Do Not Disturb.
    public enum InterruptionLevel: String, Sendable, Hashable, Codable, CaseIterable {
        case passive
        case active
        case timeSensitive = "time-sensitive"
        /// Plays its sound even when the device is muted; needs Apple's critical-alerts entitlement and a
        /// critical sound, which ``APNsRequest/payload`` adds.
        case critical
    }

    public var pushType: PushType
    /// The app's bundle ID (`apns-topic`).
    public var topic: String
    public var title: String?
    public var subtitle: String?
    public var body: String?
    /// The number on the app's icon; 0 clears it.
    public var badge: Int?
    /// A sound file in the app bundle, or `default`.
    public var sound: String?
    /// Groups notifications in Notification Center (`aps.thread-id`).
    public var threadID: String?
    /// A newer notification with the same ID replaces an older one on the device (`apns-collapse-id`).
    public var collapseID: String?
    public var interruptionLevel: InterruptionLevel?
    /// Herald's priority: critical and high are delivered at once (`apns-priority: 10`); medium and low may be
    /// batched to save power (`5`). Background pushes are always 5, as Apple requires.
    public var priority: Priority
    /// After this, APNs stops trying to deliver (`apns-expiration`); nil lets APNs store and retry as it sees fit.
    public var expiration: Date?
    /// Lets a notification service extension change the notification before it is shown (`aps.mutable-content`).
    public var mutableContent: Bool
    /// Keys beside `aps` for the app to read. An `aps` key here is ignored: Herald writes `aps` itself.
    public var customData: [String: JSONValue]

    public init(
        pushType: PushType = .alert, topic: String, title: String? = nil, subtitle: String? = nil, body: String? = nil, badge: Int? = nil,
        sound: String? = nil, threadID: String? = nil, collapseID: String? = nil, interruptionLevel: InterruptionLevel? = nil,
        priority: Priority = .medium, expiration: Date? = nil, mutableContent: Bool = false, customData: [String: JSONValue] = [:]
    ) {
        self.pushType = pushType
        self.topic = topic
        self.title = title
        self.subtitle = subtitle
        self.body = body
        self.badge = badge
        self.sound = sound
        self.threadID = threadID
        self.collapseID = collapseID
        self.interruptionLevel = interruptionLevel
        self.priority = priority
        self.expiration = expiration
        self.mutableContent = mutableContent
        self.customData = customData
    }

    /// The largest payload APNs takes for alert and background pushes, in bytes.
    public static let maximumPayloadBytes = 4096
    /// The longest `apns-collapse-id` APNs takes, in bytes.
    public static let maximumCollapseIDBytes = 64

    /// `apns-priority`: 10 (at once) for critical and high alerts, 5 (when convenient) for the rest.
    public var apnsPriority: Int {
        pushType == .alert && (priority == .critical || priority == .high) ? 10 : 5
    }

    /// The `apns-collapse-id` to send: the ID as given when it fits in 64 bytes, else its SHA-256 in hex (exactly
    /// 64 characters), so a long ID still collapses with itself and only itself rather than being refused.
    public var apnsCollapseID: String? {
        guard let collapseID else { return nil }
        if collapseID.utf8.count <= Self.maximumCollapseIDBytes { return collapseID }
        return SHA256.hash(data: Array(collapseID.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The headers besides `authorization`, lower-case as HTTP/2 writes them.
    public var headers: [(String, String)] {
        var headers = [
            ("apns-push-type", pushType.rawValue), ("apns-topic", topic), ("apns-priority", String(apnsPriority)),
            ("content-type", "application/json"),
        ]
        if let expiration {
            headers.append(("apns-expiration", String(Int64(max(0, expiration.timeIntervalSince1970.rounded(.up))))))
        }
        if let collapse = apnsCollapseID { headers.append(("apns-collapse-id", collapse)) }
        return headers
    }

    /// `{"aps": {...}, ...customData}`. A critical alert gets the critical sound dictionary
    /// (`{"critical": 1, "name": <sound or "default">, "volume": 1}`), without which iOS plays it as an ordinary one.
    public var payload: JSONValue {
        var aps: [String: JSONValue] = [:]
        switch pushType {
        case .alert:
            var alert: [String: JSONValue] = [:]
            if let title { alert["title"] = .string(title) }
            if let subtitle { alert["subtitle"] = .string(subtitle) }
            if let body { alert["body"] = .string(body) }
            if !alert.isEmpty { aps["alert"] = .object(alert) }
            if let badge { aps["badge"] = .number(Double(max(0, badge))) }
            if interruptionLevel == .critical {
                aps["sound"] = ["critical": 1, "name": .string(sound ?? "default"), "volume": 1]
            } else if let sound {
                aps["sound"] = .string(sound)
            }
            if let interruptionLevel { aps["interruption-level"] = .string(interruptionLevel.rawValue) }
            if mutableContent { aps["mutable-content"] = 1 }
        case .background:
            aps["content-available"] = 1
        }
        if let threadID { aps["thread-id"] = .string(threadID) }
        var payload = customData
        payload["aps"] = .object(aps)
        return .object(payload)
    }
}
