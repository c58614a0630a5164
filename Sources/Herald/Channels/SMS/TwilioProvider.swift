import Foundation

/// Twilio's Messages API, or any service that speaks it: `POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json`,
/// form-encoded `To`, `From` (or `MessagingServiceSid`) and `Body`, HTTP Basic auth with the account SID
/// and auth token. A `201` with the message's `sid` and `status` means Twilio has queued it.
///
/// Errors come as `{"code": 21211, "message": "…", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`;
/// the code says whose fault it is (see ``outcome(for:)``).
public struct TwilioProvider: MessageProvider {
    public let configuration: SMSProviderConfiguration
    public let accountSID: String
    public let baseURL: URL
    public let http: OutboundHTTPClient
    public let name: String

    /// Nil when the configuration is not a complete Twilio account (settings are validated on save, so
    /// only a hand-edited database gets here).
    public init?(_ configuration: SMSProviderConfiguration, http: OutboundHTTPClient) {
        guard configuration.type == .twilio, let sid = configuration.accountSID, configuration.authToken != nil,
            let base = URL(string: configuration.baseURL ?? SMSProviderConfiguration.twilioBaseURL)
        else { return nil }
        self.configuration = configuration
        self.accountSID = sid
        self.baseURL = base
        self.http = http
        self.name = "twilio \(base.displayHost)" + (configuration.name.map { " (\($0))" } ?? "")
    }

    public var circuitKey: String { "sms twilio \(baseURL.endpointLabel(for: accountSID))" }

    public func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
        guard let phone = outgoing.message.subscriber.phone else { return .rejected("the subscriber has no phone number") }
        let request = self.request(to: phone, body: outgoing.content["text"] ?? "")
        switch await http.send(.POST, to: request.url, headers: request.headers, body: request.body, priority: outgoing.message.priority) {
        case .answered(let answer): return Self.outcome(for: answer)
        case .failed(let reason): return .unavailable(reason)
        case .refused(let reason): return .providerRejected("not sent: \(reason)")
        }
    }

    /// The request for one message, built without I/O so tests can read it.
    public func request(to phone: String, body text: String) -> (url: URL, headers: [(String, String)], body: [UInt8]) {
        let url = baseURL.appendingPathComponent("2010-04-01").appendingPathComponent("Accounts").appendingPathComponent(accountSID)
            .appendingPathComponent("Messages.json")
        var fields = [("To", phone)]
        if let from = configuration.from { fields.append(("From", from)) }
        if let service = configuration.messagingServiceSID { fields.append(("MessagingServiceSid", service)) }
        fields.append(("Body", text))
        let credentials = Data("\(accountSID):\(configuration.authToken ?? "")".utf8).base64EncodedString()
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic \(credentials)"), ("Accept", "application/json"),
        ]
        return (url, headers, Array(Self.formEncoded(fields).utf8))
    }

    /// `application/x-www-form-urlencoded`, with everything but unreserved characters percent-encoded:
    /// a `+` left as it is would arrive as a space, and `+447…` would lose its country code.
    public static func formEncoded(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    /// Error codes that are the message's own fault: no other provider will do better.
    /// 21211 invalid To, 21214 To cannot be reached, 21610 the recipient replied STOP, 21614 To is not a
    /// mobile number, 21602 empty body, 21604 no To, 21617 body too long.
    static let recipientCodes: Set<Int> = [21211, 21214, 21602, 21604, 21610, 21614, 21617]
    /// Codes about this account or sender: another provider may succeed. 20003 authentication, 20404
    /// not found, 21212 invalid From, 21408 region not enabled, 21603 no From, 21606 From cannot send SMS,
    /// 21612 no route to the number from here, 21659/21660 From not this account's.
    static let accountCodes: Set<Int> = [20003, 20008, 20404, 21212, 21408, 21603, 21606, 21612, 21659, 21660, 21703, 21704]

    /// What Twilio's answer means: 2xx accepted; 429 (or code 20429) and 5xx unavailable; a recipient
    /// code rejected for good; 401, 403, 404 or an account code rejected by this provider only; any
    /// other 4xx rejected (the request itself was wrong).
    public static func outcome(for answer: OutboundHTTPAnswer) -> ProviderOutcome {
        let json = try? JSONValue.parse(answer.body)
        if (200..<300).contains(answer.status) {
            let sid = json?["sid"]?.stringValue ?? "message"
            var detail = "\(sid) \(json?["status"]?.stringValue ?? "accepted")"
            if let segments = json?["num_segments"]?.stringValue ?? json?["num_segments"]?.doubleValue.map(NumberRule.format) {
                detail += " (Twilio counts \(segments) segment\(segments == "1" ? "" : "s"))"
            }
            return .accepted(detail: detail)
        }
        let code = json?["code"]?.doubleValue.flatMap { Int(exactly: $0) }  // a provider's 1e300 is no code
        var reason = "HTTP \(answer.status)"
        if let code { reason += ", Twilio error \(code)" }
        if let message = json?["message"]?.stringValue { reason += ": \(message)" } else if !answer.body.isEmpty { reason = answer.summary }
        if let more = json?["more_info"]?.stringValue { reason += " (\(more))" }
        if answer.status == 429 || code == 20429 || answer.status == 408 || answer.status >= 500 { return .unavailable(reason) }
        if let code, recipientCodes.contains(code) { return .rejected(reason) }
        if [401, 403, 404].contains(answer.status) || code.map(accountCodes.contains) == true { return .providerRejected(reason) }
        if (300..<400).contains(answer.status) { return .providerRejected("\(reason); redirects are not followed") }
        return .rejected(reason)
    }
}
