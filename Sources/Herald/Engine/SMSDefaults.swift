import Foundation

/// The server's SMS settings: the provider accounts every tenant without its own sends through, and the
/// default cap on segments per message.
///
/// ```yaml
/// sms:
///   max_segments: 10
///   providers:
///     - type: twilio
///       account_sid: AC0123456789abcdef0123456789abcdef
///       auth_token: your-auth-token
///       from: "+15017122661"
///     - type: json
///       url: https://sms.example.net/v1/messages
///       auth_header: X-Api-Key
///       auth_value: your-key
/// ```
public struct SMSDefaults: Sendable, Hashable {
    /// In failover order; empty means tenants must bring their own.
    public var providers: [SMSProviderConfiguration] = []
    public var maxSegments = 10

    public init() {}
}

extension HeraldConfiguration {
    /// The file's `sms:` section. Providers take the same fields as `PUT /v1/settings/sms`; `max_segments`
    /// is a row of ``HeraldConfiguration/numberSettings``.
    struct SMSFile: Decodable {
        var providers: [SMSProviderConfiguration]?

        enum CodingKeys: String, CodingKey, CaseIterable { case providers }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self, also: HeraldConfiguration.numberKeys(at: decoder.codingPath))
            providers = try container.decodeIfPresent([SMSProviderConfiguration].self, forKey: .providers)
        }
    }

    mutating func apply(smsFile file: SMSFile) {
        if let value = file.providers { sms.providers = value }
    }

    /// `HERALD_SMS_TWILIO_ACCOUNT_SID` / `_AUTH_TOKEN` / `_FROM` / `_MESSAGING_SERVICE_SID` / `_BASE_URL` name
    /// a Twilio account, `HERALD_SMS_JSON_URL` / `_FROM` / `_AUTH_HEADER` / `_AUTH_VALUE` a generic JSON
    /// endpoint; either replaces the file's providers (Twilio first when both are set).
    /// `HERALD_SMS_MAX_SEGMENTS` caps segments.
    mutating func apply(smsEnvironment environment: [String: String]) throws {
        var providers: [SMSProviderConfiguration] = []
        if let sid = environment["HERALD_SMS_TWILIO_ACCOUNT_SID"] {
            providers.append(
                .twilio(
                    accountSID: sid, authToken: environment["HERALD_SMS_TWILIO_AUTH_TOKEN"] ?? "", from: environment["HERALD_SMS_TWILIO_FROM"],
                    messagingServiceSID: environment["HERALD_SMS_TWILIO_MESSAGING_SERVICE_SID"], baseURL: environment["HERALD_SMS_TWILIO_BASE_URL"],
                    name: "twilio"))
        }
        if let url = environment["HERALD_SMS_JSON_URL"] {
            providers.append(
                .json(
                    url: url, from: environment["HERALD_SMS_JSON_FROM"], authHeader: environment["HERALD_SMS_JSON_AUTH_HEADER"],
                    authValue: environment["HERALD_SMS_JSON_AUTH_VALUE"], name: "json"))
        }
        if !providers.isEmpty { sms.providers = providers }
    }

    func smsProblems() -> [String] {
        SMSSettings(providers: sms.providers, maxSegments: sms.maxSegments).problems().map { "sms.\($0.field): \($0.reason)" }
    }
}
