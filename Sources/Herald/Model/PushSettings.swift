import Foundation

/// A tenant's push providers: an APNs signing key for its iOS apps, an FCM service account for Android (and
/// anything else Firebase reaches), and the contact Web Push services see. What a tenant leaves out comes from
/// the server's `push:` section. The VAPID key pair of Web Push is Herald's own per tenant, made on first use.
///
/// Stored as one JSON document per tenant; `GET /v1/settings/push` never shows a private key, and sending the
/// `********` it shows back keeps the stored one.
public struct PushSettings: Sendable, Codable, Hashable {
    public var apns: APNs?
    public var fcm: FCM?
    public var webpush: WebPush?
    /// How long a provider keeps trying to reach a device that is off, in seconds (default a day).
    public var ttlSeconds: Int?

    static let ttlRule = NumberRule.whole(1...(28 * 86_400), unit: "seconds")
    static let defaultTTLSeconds = 86_400

    public init(apns: APNs? = nil, fcm: FCM? = nil, webpush: WebPush? = nil, ttlSeconds: Int? = nil) {
        self.apns = apns
        self.fcm = fcm
        self.webpush = webpush
        self.ttlSeconds = ttlSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apns, fcm, webpush
        case ttlSeconds = "ttl_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: ReadOnlyField.names(.effective))
        apns = try container.decodeIfPresent(APNs.self, forKey: .apns)
        fcm = try container.decodeIfPresent(FCM.self, forKey: .fcm)
        webpush = try container.decodeIfPresent(WebPush.self, forKey: .webpush)
        ttlSeconds = try container.decodeIfPresent(Int.self, forKey: .ttlSeconds, within: Self.ttlRule)
    }

    /// APNs with token authentication: one `.p8` key signs for every app of the team.
    public struct APNs: Sendable, Codable, Hashable {
        public var credentials: APNsCredentials
        /// The `apns-topic` for devices registered without an `app_id`.
        public var bundleID: String?
        /// Whether the app holds Apple's critical-alerts entitlement: critical event types then sound through
        /// silent mode (`interruption-level: critical`); without it they go `time-sensitive`.
        public var criticalAlerts: Bool?
        /// Apple's gateways unless set (a regional endpoint, or a test server).
        public var baseURL: String?
        public var sandboxBaseURL: String?

        public init(credentials: APNsCredentials, bundleID: String? = nil, criticalAlerts: Bool? = nil, baseURL: String? = nil, sandboxBaseURL: String? = nil) {
            self.credentials = credentials
            self.bundleID = bundleID
            self.criticalAlerts = criticalAlerts
            self.baseURL = baseURL
            self.sandboxBaseURL = sandboxBaseURL
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case keyID = "key_id"
            case teamID = "team_id"
            case privateKey = "private_key"
            case bundleID = "bundle_id"
            case criticalAlerts = "critical_alerts"
            case baseURL = "base_url"
            case sandboxBaseURL = "sandbox_base_url"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            credentials = APNsCredentials(
                keyID: try container.decode(String.self, forKey: .keyID), teamID: try container.decode(String.self, forKey: .teamID),
                privateKeyPEM: try container.decode(String.self, forKey: .privateKey))
            bundleID = try container.decodeIfPresent(String.self, forKey: .bundleID)
            criticalAlerts = try container.decodeIfPresent(Bool.self, forKey: .criticalAlerts)
            baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
            sandboxBaseURL = try container.decodeIfPresent(String.self, forKey: .sandboxBaseURL)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(credentials.keyID, forKey: .keyID)
            try container.encode(credentials.teamID, forKey: .teamID)
            try container.encode(credentials.privateKeyPEM, forKey: .privateKey)
            try container.encodeIfPresent(bundleID, forKey: .bundleID)
            try container.encodeIfPresent(criticalAlerts, forKey: .criticalAlerts)
            try container.encodeIfPresent(baseURL, forKey: .baseURL)
            try container.encodeIfPresent(sandboxBaseURL, forKey: .sandboxBaseURL)
        }
    }

    /// FCM HTTP v1 with a service account: the JSON file the Firebase console downloads.
    public struct FCM: Sendable, Codable, Hashable {
        public var serviceAccount: FCMServiceAccount
        public var baseURL: String?

        public init(serviceAccount: FCMServiceAccount, baseURL: String? = nil) {
            self.serviceAccount = serviceAccount
            self.baseURL = baseURL
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case serviceAccount = "service_account"
            case baseURL = "base_url"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            serviceAccount = try container.decode(FCMServiceAccount.self, forKey: .serviceAccount)
            baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
        }
    }

    /// Web Push: the contact push services may write to about this sender (RFC 8292's `sub`).
    public struct WebPush: Sendable, Codable, Hashable {
        /// `mailto:ops@example.com` or an `https:` URL.
        public var subject: String?

        public init(subject: String? = nil) {
            self.subject = subject
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case subject }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            subject = try container.decodeIfPresent(String.self, forKey: .subject)
        }
    }
}
