/// RFC 8030 §5.3's `Urgency` header: how soon the browser's device should be woken for a message. A push service
/// may hold `very-low` and `low` messages while the device is on battery or in power saving, and deliver them
/// with the next urgent one, so the choice saves the recipient's battery without losing anything.
public enum WebPushUrgency: String, Sendable, Hashable, Codable, CaseIterable {
    /// Advertisements and the like: delivered when the device is on power and Wi-Fi.
    case veryLow = "very-low"
    /// Topic updates: delivered on power, or Wi-Fi.
    case low
    /// Chats, calendar reminders: delivered unless the device is in low-battery mode. What a push service
    /// assumes when the header is absent.
    case normal
    /// Time-sensitive alerts (a call, a sign-in code): delivered at once, even on low battery.
    case high
}
