import Foundation

/// One device's push in its provider's terms, with what sending it needs: the request, the device's token
/// or subscription, and the credentials. Built by ``PushChannel/route(_:_:settings:tenantID:)``.
enum PushRoute: Sendable {
    case apns(APNsRequest, token: String, environment: APNsEnvironment, credentials: APNsCredentials, baseURL: URL?)
    case fcm(FCMMessage, token: String, account: FCMServiceAccount, baseURL: URL?)
    case webPush(payload: [UInt8], subscription: WebPushSubscription, tenantID: String, subject: String, ttlSeconds: Int, urgency: WebPushUrgency, topic: String?)
    /// Nothing can send to this device: no credentials for its platform.
    case unavailable(String)

    /// The circuit breaker the send goes behind: one per provider host.
    var circuitKey: String {
        switch self {
        case .apns(_, _, let environment, _, let baseURL): "push apns \(baseURL?.host ?? environment.defaultBaseURL.host ?? "")"
        case .fcm(_, _, _, let baseURL): "push fcm \(baseURL?.host ?? FCMSender.defaultBaseURL.host ?? "")"
        case .webPush(_, let subscription, _, _, _, _, _): "push webpush \(URL(string: subscription.endpoint)?.host ?? "")"
        case .unavailable: "push unavailable"
        }
    }

    func send(_ channel: PushChannel) async -> PushDeviceOutcome {
        switch self {
        case .apns(let request, let token, let environment, let credentials, let baseURL):
            do {
                let sender = APNsSender(tokens: try channel.apnsTokens(credentials), http: channel.http, baseURL: baseURL)
                return await sender.send(request, deviceToken: token, environment: environment)
            } catch {
                return .permanentFailure("the APNs key cannot sign: \(error)")
            }
        case .fcm(let message, let token, let account, let baseURL):
            do {
                let sender = FCMSender(tokens: try channel.fcmTokens(account), http: channel.http, baseURL: baseURL)
                return await sender.send(message, token: token)
            } catch {
                return .permanentFailure("the FCM service account cannot sign: \(error)")
            }
        case .webPush(let payload, let subscription, let tenantID, let subject, let ttl, let urgency, let topic):
            do {
                let key = try await channel.vapidKey(tenantID: tenantID)
                return await channel.webPush.send(payload, to: subscription, vapid: key, subject: subject, ttlSeconds: ttl, urgency: urgency, topic: topic)
            } catch {
                return .transientFailure("cannot read the tenant's VAPID key: \(error)", retryAfter: nil)
            }
        case .unavailable(let reason):
            return .permanentFailure(reason)
        }
    }
}
