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
    /// The file's `sms:` section: `providers` take the same fields as `PUT /v1/settings/sms`; its keys
    /// (`max_segments`, `twilio.*`, `json.*`) are rows of ``ConfigurationKey/all``.
    struct SMSFile: Decodable {
        var providers: [SMSProviderConfiguration]?

        enum CodingKeys: String, CodingKey, CaseIterable { case providers }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try ConfigurationSection.check(decoder, documents: CodingKeys.self)
            providers = try container.decodeIfPresent([SMSProviderConfiguration].self, forKey: .providers)
        }
    }

    mutating func apply(smsFile file: SMSFile) {
        if let value = file.providers { sms.providers = value }
    }

    /// `sms.twilio.*` names a Twilio account, `sms.json.*` a generic JSON endpoint; either replaces the
    /// file's providers (Twilio first when both are set), so `HERALD_SMS_TWILIO_ACCOUNT_SID` and its token
    /// are all a deployment needs.
    mutating func applySMSShortcuts(_ resolution: ConfigurationResolution) {
        var providers: [SMSProviderConfiguration] = []
        if let sid = resolution.text("sms.twilio.account_sid") {
            providers.append(
                .twilio(
                    accountSID: sid, authToken: resolution.text("sms.twilio.auth_token") ?? "", from: resolution.text("sms.twilio.from"),
                    messagingServiceSID: resolution.text("sms.twilio.messaging_service_sid"), baseURL: resolution.text("sms.twilio.base_url"),
                    name: "twilio"))
        }
        if let url = resolution.text("sms.json.url") {
            providers.append(
                .json(
                    url: url, from: resolution.text("sms.json.from"), authHeader: resolution.text("sms.json.auth_header"),
                    authValue: resolution.text("sms.json.auth_value"), name: "json"))
        }
        if !providers.isEmpty { sms.providers = providers }
    }

    func smsProblems() -> [String] {
        SMSSettings(providers: sms.providers, maxSegments: sms.maxSegments).problems().map { "sms.\($0.field): \($0.reason)" }
    }
}
