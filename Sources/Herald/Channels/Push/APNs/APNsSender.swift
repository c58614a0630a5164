import Foundation

/// Sends notifications to APNs over its HTTP/2 API with token authentication:
/// `POST {base}/3/device/{device token}` with `authorization: bearer <provider token>`, the `apns-*` headers and the
/// JSON payload of an ``APNsRequest``.
///
/// Every request goes through ``OutboundHTTPClient``, so the destination policy applies (the base URL can be a
/// tenant's). Its client speaks HTTP/2 wherever the server offers it by ALPN, as APNs does, and multiplexes
/// concurrent requests over one connection per host, which is how Apple wants providers to behave: connections kept
/// open and reused, not one per notification. The provider token comes from an ``APNsTokenProvider`` shared by all
/// sends with the same key.
///
/// Apple's answers, and what they mean here:
/// - 200: accepted, with APNs' `apns-id`;
/// - 410 (`Unregistered`, `ExpiredToken`), or 400 `BadDeviceToken` / `DeviceTokenNotForTopic`: the device token is
///   dead or not this app's, so ``PushDeviceOutcome/gone(_:)``. (`BadDeviceToken` is also what a sandbox token
///   gets from production; the device's environment is part of its registration.)
/// - 403 `ExpiredProviderToken` / `InvalidProviderToken`: the token is renewed once and the request sent once more;
///   refused again, the credentials are wrong (a permanent failure);
/// - 429 and 5xx: transient, after `Retry-After` when given;
/// - any other status: permanent, with Apple's reason (`PayloadTooLarge`, `BadCollapseId`, `TopicDisallowed`).
public struct APNsSender: Sendable {
    public let tokens: APNsTokenProvider
    public let http: OutboundHTTPClient
    /// Replaces Apple's servers for both environments (a relay, a test server); nil uses Apple's.
    public let baseURL: URL?

    public init(tokens: APNsTokenProvider, http: OutboundHTTPClient, baseURL: URL? = nil) {
        self.tokens = tokens
        self.http = http
        self.baseURL = baseURL
    }

    /// Sends `request` to one device; never throws. A device token that is not hexadecimal is gone without a
    /// request (APNs would answer `BadDeviceToken`, and it must not reach the URL's path unchecked); a payload over
    /// 4 KB fails without one (APNs would answer `PayloadTooLarge`).
    public func send(_ request: APNsRequest, deviceToken: String, environment: APNsEnvironment) async -> PushDeviceOutcome {
        guard Self.isDeviceToken(deviceToken) else { return .gone("BadDeviceToken: not sent, the device token is not hexadecimal") }
        let body = Array(request.payload.jsonText().utf8)
        guard body.count <= APNsRequest.maximumPayloadBytes else {
            return .permanentFailure(
                "PayloadTooLarge: not sent, the payload is \(body.count) bytes and APNs takes \(APNsRequest.maximumPayloadBytes)")
        }
        let url = self.url(deviceToken: deviceToken, environment: environment)
        var providerToken: String
        do {
            providerToken = try tokens.token()
        } catch {
            return .permanentFailure("cannot sign the APNs provider token: \(error)")
        }
        var renewed = false
        while true {
            let headers = [("authorization", "bearer \(providerToken)")] + request.headers
            switch await http.send(.POST, to: url, headers: headers, body: body) {
            case .failed(let reason):
                return .transientFailure("APNs did not answer: \(reason)", retryAfter: nil)
            case .refused(let reason):
                return .permanentFailure("not sent: \(reason)")
            case .answered(let answer):
                if !renewed, answer.status == 403, let reason = Self.reason(answer), Self.providerTokenReasons.contains(reason) {
                    renewed = true
                    do {
                        providerToken = try tokens.renew(replacing: providerToken)
                    } catch {
                        return .permanentFailure("cannot sign the APNs provider token: \(error)")
                    }
                    continue
                }
                return Self.outcome(for: answer)
            }
        }
    }

    /// `{base}/3/device/{device token}`.
    public func url(deviceToken: String, environment: APNsEnvironment) -> URL {
        (baseURL ?? environment.defaultBaseURL).appendingPathComponent("3").appendingPathComponent("device").appendingPathComponent(deviceToken)
    }

    /// The 403 reasons that mean the provider token, not the request, was refused.
    static let providerTokenReasons: Set<String> = ["ExpiredProviderToken", "InvalidProviderToken"]
    /// The 400 reasons that mean the device token is not (or no longer) this app's.
    static let deadTokenReasons: Set<String> = ["BadDeviceToken", "DeviceTokenNotForTopic"]

    /// Apple's device tokens: hexadecimal, 64 characters today (32 bytes), longer allowed for the future.
    static func isDeviceToken(_ token: String) -> Bool {
        (64...200).contains(token.utf8.count) && token.utf8.allSatisfy { $0.isHexDigitASCII }
    }

    /// What one answer from APNs means (see the type's documentation).
    public static func outcome(for answer: OutboundHTTPAnswer) -> PushDeviceOutcome {
        let reason = Self.reason(answer)
        let detail = reason.map { "APNs \(answer.status) \($0)" } ?? "APNs \(answer.summary)"
        switch answer.status {
        case 200..<300:
            return .accepted("APNs \(answer.status), apns-id \(answer.header("apns-id") ?? "unknown")")
        case 410:
            var gone = detail
            if let milliseconds = (try? JSONValue.parse(answer.body))?["timestamp"]?.doubleValue {
                gone += " (no longer valid since \(Date(timeIntervalSince1970: milliseconds / 1000).formatted(.iso8601)))"
            }
            return .gone(gone)
        case 400 where reason.map(deadTokenReasons.contains) == true:
            return .gone(detail)
        case 429, 500..<600:
            return .transientFailure(detail, retryAfter: answer.retryAfterSeconds)
        default:
            return .permanentFailure(detail)
        }
    }

    /// The `reason` of Apple's error body (`{"reason": "BadDeviceToken"}`).
    static func reason(_ answer: OutboundHTTPAnswer) -> String? {
        (try? JSONValue.parse(answer.body))?["reason"]?.stringValue
    }
}

extension UInt8 {
    fileprivate var isHexDigitASCII: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
