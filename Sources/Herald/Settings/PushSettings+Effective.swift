extension PushSettings {
    /// Read-only beside the settings: where each platform's credentials come from, and the key a page subscribes with.
    public struct Effective: Encodable, Sendable {
        /// `tenant`, `server` or `none` for each platform.
        public var apns: String
        public var fcm: String
        /// The key a page passes to `PushManager.subscribe({applicationServerKey})`.
        public var vapidPublicKey: String

        enum CodingKeys: String, CodingKey {
            case apns, fcm
            case vapidPublicKey = "vapid_public_key"
        }

        init(settings: PushSettings, defaults: PushSettings, vapidPublicKey: String) {
            func source(_ tenant: Bool, _ server: Bool) -> String { tenant ? "tenant" : server ? "server" : "none" }
            self.apns = source(settings.apns != nil, defaults.apns != nil)
            self.fcm = source(settings.fcm != nil, defaults.fcm != nil)
            self.vapidPublicKey = vapidPublicKey
        }
    }
}
