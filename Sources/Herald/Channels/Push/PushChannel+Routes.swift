import Foundation

extension PushChannel {
    /// The send for one device: the notification in its provider's format, with the tenant's credentials
    /// (each section falling back to the server's).
    func route(_ device: PushDevice, _ notification: PushNotification, settings: PushSettings, tenantID: String) -> PushRoute {
        let ttl = settings.ttlSeconds ?? defaults.settings.ttlSeconds ?? PushSettings.defaultTTLSeconds
        switch device.platform {
        case .apns:
            guard let apns = settings.apns ?? defaults.settings.apns, let token = device.token else {
                return .unavailable("no APNs key: PUT /v1/settings/push with apns, or the server's push.apns")
            }
            guard let topic = device.appID ?? apns.bundleID else {
                return .unavailable("no apns-topic: register the device with its app_id, or set apns.bundle_id")
            }
            let environment = device.environment ?? .production
            let base = environment == .sandbox ? apns.sandboxBaseURL : apns.baseURL
            let level: APNsRequest.InterruptionLevel? =
                notification.isCritical ? (apns.criticalAlerts == true ? .critical : .timeSensitive) : nil
            var data = notification.data
            data["herald"] = .object(["message_id": .string(notification.messageID), "event_type": .string(notification.eventType)])
            if let url = notification.url { data["url"] = .string(url) }
            let request = APNsRequest(
                topic: topic, title: notification.title, subtitle: notification.subtitle, body: notification.body, badge: notification.badge,
                sound: notification.sound ?? (notification.isCritical ? "default" : nil), threadID: notification.thread,
                collapseID: notification.collapseKey, interruptionLevel: level, priority: notification.isCritical ? .critical : .medium,
                expiration: Date().addingTimeInterval(Double(ttl)), mutableContent: notification.image != nil, customData: data)
            return .apns(request, token: token, environment: environment, credentials: apns.credentials, baseURL: base.flatMap(URL.init(string:)))
        case .fcm:
            guard let fcm = settings.fcm ?? defaults.settings.fcm, let token = device.token else {
                return .unavailable("no FCM service account: PUT /v1/settings/push with fcm, or the server's push.fcm")
            }
            // FCM's data values are strings: nested JSON goes as its text.
            var data: [String: String] = notification.data.mapValues { value in
                if case .string(let text) = value { return text }
                return value.jsonText()
            }
            data["herald_message_id"] = notification.messageID
            data["herald_event_type"] = notification.eventType
            if let url = notification.url { data["url"] = url }
            let message = FCMMessage(
                title: notification.title, body: notification.body, imageURL: notification.image, data: data,
                priority: notification.isCritical ? .critical : .medium, collapseKey: notification.collapseKey, tag: notification.thread,
                timeToLiveSeconds: ttl, badge: notification.badge, sound: notification.sound, threadID: notification.thread)
            return .fcm(message, token: token, account: fcm.serviceAccount, baseURL: fcm.baseURL.flatMap(URL.init(string:)))
        case .webpush:
            guard let subscription = device.subscription else { return .unavailable("the device has no Web Push subscription") }
            let subject = settings.webpush?.subject ?? defaults.settings.webpush?.subject ?? defaults.fallbackSubject
            return .webPush(
                payload: Array(Self.webPushPayload(notification).jsonText().utf8), subscription: subscription, tenantID: tenantID, subject: subject,
                ttlSeconds: ttl, urgency: notification.isCritical ? .high : .normal,
                topic: notification.collapseKey.flatMap { WebPushSender.topicProblem($0) == nil ? $0 : nil })
        }
    }

    /// What Herald's service worker receives and shows (`showNotification(title, options)`).
    static func webPushPayload(_ notification: PushNotification) -> JSONValue {
        var payload: [String: JSONValue] = [
            "title": .string(notification.title), "body": .string(notification.body),
            "message_id": .string(notification.messageID), "event_type": .string(notification.eventType),
            "data": .object(notification.data), "critical": .bool(notification.isCritical),
        ]
        if let subtitle = notification.subtitle { payload["subtitle"] = .string(subtitle) }
        if let url = notification.url { payload["url"] = .string(url) }
        if let image = notification.image { payload["image"] = .string(image) }
        if let badge = notification.badge { payload["badge"] = .number(Double(badge)) }
        if let tag = notification.thread ?? notification.collapseKey { payload["tag"] = .string(tag) }
        return .object(payload)
    }
}
