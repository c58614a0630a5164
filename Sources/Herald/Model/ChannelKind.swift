/// A way to reach a subscriber. Each has its own template parts and address.
public enum ChannelKind: String, Sendable, Codable, CaseIterable, Comparable {
    case inApp = "in_app"
    case email
    case sms
    case webhook
    case chat
    /// Phones and browsers: APNs, FCM and Web Push, to each of the subscriber's active devices.
    case push

    /// Template parts that must be present for this channel, and the ones that may be.
    public var requiredParts: [String] {
        switch self {
        case .inApp: ["title", "body"]
        case .email: ["subject", "html"]
        case .sms, .chat: ["text"]
        case .webhook: ["body"]
        case .push: ["title", "body"]
        }
    }

    public var optionalParts: [String] {
        switch self {
        case .inApp: ["action_url"]
        case .email: ["text"]
        case .chat: ["title"]
        case .sms, .webhook: []
        // `data` renders to a JSON object handed to the app; `thread` groups notifications on the lock
        // screen; `collapse` replaces an earlier notification with the same key.
        case .push: ["subtitle", "badge", "sound", "image", "url", "data", "thread", "collapse"]
        }
    }

    public static func < (lhs: ChannelKind, rhs: ChannelKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
