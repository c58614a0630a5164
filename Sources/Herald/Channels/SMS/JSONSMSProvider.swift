import Foundation

/// A generic SMS gateway that takes JSON: `POST url` with `{"to": "+447700900123", "from": "Herald", "text": "…"}`
/// (`from` only when configured) and, optionally, one authentication header (`Authorization: Bearer …`,
/// `X-Api-Key: …`). For in-house gateways and providers without a Twilio-compatible API.
///
/// Answers: 2xx accepted; 408, 429 and 5xx unavailable; 401, 403 and 404 refused by this gateway only;
/// any other 4xx (a 400 or 422 about the number or the text) refused for good.
public struct JSONSMSProvider: MessageProvider {
    public let configuration: SMSProviderConfiguration
    public let url: URL
    public let http: OutboundHTTPClient
    public let name: String

    public init?(_ configuration: SMSProviderConfiguration, http: OutboundHTTPClient) {
        guard configuration.type == .json, let url = configuration.url.flatMap(URL.init(string:)) else { return nil }
        self.configuration = configuration
        self.url = url
        self.http = http
        self.name = "json \(url.displayHost)" + (configuration.name.map { " (\($0))" } ?? "")
    }

    public var circuitKey: String { "sms json \(url.endpointLabel)" }

    public func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
        guard let phone = outgoing.message.subscriber.phone else { return .rejected("the subscriber has no phone number") }
        switch await http.send(
            .POST, to: url, headers: headers, body: Array(JSONCoding.encode(body(to: phone, text: outgoing.content["text"] ?? ""))),
            priority: outgoing.message.priority)
        {
        case .answered(let answer): return Self.outcome(for: answer)
        case .failed(let reason): return .unavailable(reason)
        case .refused(let reason): return .providerRejected("not sent: \(reason)")
        }
    }

    public func body(to phone: String, text: String) -> JSONValue {
        var body: [String: JSONValue] = ["to": .string(phone), "text": .string(text)]
        if let from = configuration.from { body["from"] = .string(from) }
        return .object(body)
    }

    public var headers: [(String, String)] {
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let value = configuration.authValue { headers.append((configuration.authHeader ?? "Authorization", value)) }
        return headers
    }

    public static func outcome(for answer: OutboundHTTPAnswer) -> ProviderOutcome {
        switch answer.status {
        case 200..<300: .accepted(detail: answer.summary)
        case 408, 429, 500..<600: .unavailable(answer.summary)
        case 401, 403, 404: .providerRejected(answer.summary)
        case 300..<400: .providerRejected("\(answer.summary); redirects are not followed")
        default: .rejected(answer.summary)
        }
    }
}
