import Foundation

/// A phone or browser a subscriber receives push notifications on. A push message goes to each of the
/// subscriber's active devices; one a provider reports gone (APNs `410 Unregistered`, FCM `UNREGISTERED`,
/// Web Push `404`/`410`) is deactivated at once, with the reason, and never sent to again.
///
/// Registering the same token (or Web Push endpoint) again updates the device, moves it to the registering
/// subscriber and makes it active again: an app reinstalled or a browser subscribed anew is one device.
public struct PushDevice: Sendable, Encodable, Hashable {
    public enum Platform: String, Sendable, Codable, Hashable, CaseIterable {
        case apns, fcm, webpush
    }

    public var id: String
    public var subscriberID: String
    public var platform: Platform
    /// The APNs or FCM registration token; nil for Web Push.
    public var token: String?
    /// The Web Push subscription (its keys are never shown in answers).
    public var subscription: WebPushSubscription?
    /// The iOS bundle id (the `apns-topic`) or the Android/web app id.
    public var appID: String?
    public var environment: APNsEnvironment?
    public var locale: String?
    public var active: Bool
    /// Why the device was deactivated (`410 Unregistered (APNs)`), when it was.
    public var deactivatedReason: String?
    public var lastSeenAt: Date
    public var createdAt: Date

    public init(
        id: String, subscriberID: String, platform: Platform, token: String?, subscription: WebPushSubscription?, appID: String?,
        environment: APNsEnvironment?, locale: String?, active: Bool, deactivatedReason: String?, lastSeenAt: Date, createdAt: Date
    ) {
        self.id = id
        self.subscriberID = subscriberID
        self.platform = platform
        self.token = token
        self.subscription = subscription
        self.appID = appID
        self.environment = environment
        self.locale = locale
        self.active = active
        self.deactivatedReason = deactivatedReason
        self.lastSeenAt = lastSeenAt
        self.createdAt = createdAt
    }

    /// The token or endpoint that identifies the device to its provider.
    public var address: String { token ?? subscription?.endpoint ?? "" }

    /// A name for logs and attempt details that gives nothing away: the platform and the token's last characters.
    public var label: String { "\(platform.rawValue) …\(address.suffix(8))" }

    enum CodingKeys: String, CodingKey {
        case id, platform, token, environment, locale, active
        case subscriberID = "subscriber_id"
        case endpoint
        case appID = "app_id"
        case deactivatedReason = "deactivated_reason"
        case lastSeenAt = "last_seen_at"
        case createdAt = "created_at"
    }

    /// Answers carry the endpoint of a Web Push subscription, never its keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(subscriberID, forKey: .subscriberID)
        try container.encode(platform, forKey: .platform)
        try container.encodeIfPresent(token, forKey: .token)
        try container.encodeIfPresent(subscription?.endpoint, forKey: .endpoint)
        try container.encodeIfPresent(appID, forKey: .appID)
        try container.encodeIfPresent(environment, forKey: .environment)
        try container.encodeIfPresent(locale, forKey: .locale)
        try container.encode(active, forKey: .active)
        try container.encodeIfPresent(deactivatedReason, forKey: .deactivatedReason)
        try container.encode(lastSeenAt, forKey: .lastSeenAt)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
