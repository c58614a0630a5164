/// `POST /v1/subscribers/{id}/devices` and `POST /v1/inbox/devices`: a device to register.
///
/// ```json
/// {"platform": "apns", "token": "9f…", "app_id": "com.maplecourt.app", "environment": "sandbox", "locale": "fr"}
/// {"platform": "fcm", "token": "dQw4…:APA91b…"}
/// {"platform": "webpush", "subscription": {"endpoint": "https://…", "keys": {"p256dh": "BNc…", "auth": "tBH…"}}}
/// ```
public struct NewPushDevice: Sendable, Hashable {
    public var platform: PushDevice.Platform
    public var token: String?
    public var subscription: WebPushSubscription?
    public var appID: String?
    public var environment: APNsEnvironment?
    public var locale: String?

    public init(
        platform: PushDevice.Platform, token: String? = nil, subscription: WebPushSubscription? = nil, appID: String? = nil,
        environment: APNsEnvironment? = nil, locale: String? = nil
    ) {
        self.platform = platform
        self.token = token
        self.subscription = subscription
        self.appID = appID
        self.environment = environment
        self.locale = locale
    }

    /// The longest token accepted: FCM tokens run to a few hundred characters, APNs tokens to 64 bytes of hex today.
    static let maximumTokenLength = 4096

    /// Every problem, named by field, so a malformed token or key is refused at registration.
    public var problems: [FieldError] {
        var problems: [FieldError] = []
        switch platform {
        case .apns, .fcm:
            if subscription != nil { problems.append(FieldError("subscription", "is for webpush devices; \(platform.rawValue) takes a token")) }
            guard let token, !token.isEmpty else {
                problems.append(FieldError("token", "is required for \(platform.rawValue)"))
                break
            }
            if token.utf8.count > Self.maximumTokenLength {
                problems.append(FieldError("token", "must be at most \(Self.maximumTokenLength) characters"))
            } else if platform == .apns, !(token.utf8.count >= 32 && token.utf8.count % 2 == 0 && token.allSatisfy(\.isHexDigit)) {
                problems.append(FieldError("token", "must be an APNs device token: hexadecimal, an even number of at least 32 digits"))
            } else if platform == .fcm, !token.unicodeScalars.allSatisfy(Self.isTokenCharacter) {
                problems.append(FieldError("token", "must be an FCM registration token: letters, digits, and - _ : . only"))
            }
        case .webpush:
            if token != nil { problems.append(FieldError("token", "is for apns and fcm devices; webpush takes a subscription")) }
            guard let subscription else {
                problems.append(FieldError("subscription", "is required for webpush: the browser's PushSubscription (endpoint and keys)"))
                break
            }
            problems += WebPushSubscription.problems(endpoint: subscription.endpoint, p256dh: subscription.p256dh, auth: subscription.auth)
                .map { FieldError($0.field, $0.reason) }
        }
        if platform != .apns, environment != nil { problems.append(FieldError("environment", "is for apns devices only")) }
        if let appID, appID.isEmpty || appID.count > 255 || appID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problems.append(FieldError("app_id", "must be 1 to 255 characters, without control characters"))
        }
        if let locale, locale.isEmpty || locale.count > 35 || !locale.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            problems.append(FieldError("locale", "must be a language tag such as fr or pt-BR"))
        }
        return problems
    }

    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_:.".unicodeScalars.contains(scalar))
    }
}

extension NewPushDevice: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case platform, token, subscription, environment, locale
        case appID = "app_id"
    }

    /// The browser's `PushSubscription.toJSON()`: `{"endpoint", "expirationTime", "keys": {"p256dh", "auth"}}`.
    struct SubscriptionJSON: Decodable {
        struct Keys: Decodable {
            var p256dh: String
            var auth: String

            enum CodingKeys: String, CodingKey, CaseIterable { case p256dh, auth }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                try decoder.refuseUnknownKeys(CodingKeys.self)
                p256dh = try container.decode(String.self, forKey: .p256dh)
                auth = try container.decode(String.self, forKey: .auth)
            }
        }

        var endpoint: String
        var keys: Keys

        enum CodingKeys: String, CodingKey, CaseIterable {
            case endpoint, keys
            case expirationTime
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            endpoint = try container.decode(String.self, forKey: .endpoint)
            keys = try container.decode(Keys.self, forKey: .keys)
            // When the push service will end the subscription, in milliseconds since 1970 (null for never). Read
            // within its bounds like every number, though Herald learns of an ended subscription from the 410 anyway.
            _ = try container.decodeIfPresent(Double.self, forKey: .expirationTime, within: Self.expirationRule)
        }

        static let expirationRule = NumberRule.whole(1...9_000_000_000_000_000, unit: "milliseconds since 1970")
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        platform = try container.decode(PushDevice.Platform.self, forKey: .platform)
        token = try container.decodeIfPresent(String.self, forKey: .token)
        subscription = try container.decodeIfPresent(SubscriptionJSON.self, forKey: .subscription).map {
            WebPushSubscription(endpoint: $0.endpoint, p256dh: $0.keys.p256dh, auth: $0.keys.auth)
        }
        appID = try container.decodeIfPresent(String.self, forKey: .appID)
        environment = try container.decodeIfPresent(APNsEnvironment.self, forKey: .environment)
        locale = try container.decodeIfPresent(String.self, forKey: .locale)
    }
}
