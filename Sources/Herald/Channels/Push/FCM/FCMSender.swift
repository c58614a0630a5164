import Foundation

/// Sends notifications through Firebase Cloud Messaging's HTTP v1 API:
/// `POST {base}/v1/projects/{project_id}/messages:send` with `authorization: Bearer <OAuth access token>` and
/// `{"message": {...}}` (see ``FCMMessage``). One request per registration token; FCM v1 has no multicast.
///
/// Every request goes through ``OutboundHTTPClient``, so the destination policy applies (the base URL can be a
/// tenant's). The access token comes from an ``FCMTokenProvider`` shared by all sends of the account; when FCM
/// answers 401 the token is dropped and the request sent once more with a fresh one (a token revoked or expired
/// early), then given up as a permanent failure.
///
/// FCM's answers, and what they mean here (errors are `{"error": {"code", "message", "status", "details":
/// [{"@type": ".../google.firebase.fcm.v1.FcmError", "errorCode"}]}}`):
/// - 200: accepted, with the message's `name`;
/// - 404 or `UNREGISTERED`: the app was uninstalled or the token expired, so ``PushDeviceOutcome/gone(_:)``;
/// - `INVALID_ARGUMENT` about the registration token itself: gone (it never was a token); any other
///   `INVALID_ARGUMENT` is the message's fault, a permanent failure;
/// - 429 (`QUOTA_EXCEEDED`), 503 (`UNAVAILABLE`) and 500 (`INTERNAL`): transient, after `Retry-After` when given;
/// - anything else (`SENDER_ID_MISMATCH`, `THIRD_PARTY_AUTH_ERROR`, `PERMISSION_DENIED`): permanent, with
///   Google's message.
public struct FCMSender: Sendable {
    public let tokens: FCMTokenProvider
    public let http: OutboundHTTPClient
    /// Replaces `https://fcm.googleapis.com` (a relay, a test server); nil uses Google's.
    public let baseURL: URL?

    public static let defaultBaseURL = URL(string: "https://fcm.googleapis.com")!

    public init(tokens: FCMTokenProvider, http: OutboundHTTPClient, baseURL: URL? = nil) {
        self.tokens = tokens
        self.http = http
        self.baseURL = baseURL
    }

    /// `{base}/v1/projects/{project_id}/messages:send`.
    public var url: URL {
        (baseURL ?? Self.defaultBaseURL).appendingPathComponent("v1").appendingPathComponent("projects")
            .appendingPathComponent(tokens.account.projectID).appendingPathComponent("messages:send")
    }

    /// Sends `message` to one registration token; never throws.
    public func send(_ message: FCMMessage, token: String) async -> PushDeviceOutcome {
        guard !token.isEmpty else { return .gone("INVALID_ARGUMENT: not sent, the registration token is empty") }
        let body = Array(message.requestBody(token: token).jsonText().utf8)
        var retried = false
        while true {
            let accessToken: String
            do {
                accessToken = try await tokens.accessToken()
            } catch {
                switch error {
                case .transient(let reason, let retryAfter): return .transientFailure(reason, retryAfter: retryAfter)
                case .permanent(let reason): return .permanentFailure(reason)
                }
            }
            let headers = [
                ("authorization", "Bearer \(accessToken)"), ("content-type", "application/json; charset=UTF-8"), ("accept", "application/json"),
            ]
            switch await http.send(.POST, to: url, headers: headers, body: body, priority: message.priority) {
            case .failed(let reason):
                return .transientFailure("FCM did not answer: \(reason)", retryAfter: nil)
            case .refused(let reason):
                return .permanentFailure("not sent: \(reason)")
            case .answered(let answer):
                if answer.status == 401, !retried, Self.errorCodes(answer).contains("THIRD_PARTY_AUTH_ERROR") == false {
                    retried = true
                    await tokens.invalidate(accessToken)
                    continue
                }
                return Self.outcome(for: answer)
            }
        }
    }

    /// What one answer from FCM means (see the type's documentation).
    public static func outcome(for answer: OutboundHTTPAnswer) -> PushDeviceOutcome {
        let error = (try? JSONValue.parse(answer.body))?["error"]
        if (200..<300).contains(answer.status) {
            let name = (try? JSONValue.parse(answer.body))?["name"]?.stringValue ?? "unnamed"
            return .accepted("FCM \(answer.status), \(name)")
        }
        let codes = errorCodes(answer)
        let message = error?["message"]?.stringValue
        var detail = "FCM \(answer.status)"
        if let code = codes.first ?? error?["status"]?.stringValue { detail += " \(code)" }
        if let message { detail += ": \(message)" } else if !answer.body.isEmpty { detail = "FCM \(answer.summary)" }
        if answer.status == 404 || codes.contains("UNREGISTERED") { return .gone(detail) }
        if codes.contains("INVALID_ARGUMENT"), message?.localizedCaseInsensitiveContains("registration token") == true { return .gone(detail) }
        switch answer.status {
        case 429, 500, 503: return .transientFailure(detail, retryAfter: answer.retryAfterSeconds)
        default: return .permanentFailure(detail)
        }
    }

    /// The `errorCode`s in `error.details` (FCM's own codes, as opposed to the generic `status`).
    static func errorCodes(_ answer: OutboundHTTPAnswer) -> [String] {
        guard case .array(let details)? = (try? JSONValue.parse(answer.body))?["error"]?["details"] else { return [] }
        return details.compactMap { $0["errorCode"]?.stringValue }
    }
}
