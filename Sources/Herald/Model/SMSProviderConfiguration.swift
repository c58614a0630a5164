import Foundation

/// One SMS provider account, as a tenant's settings or the server's defaults name it.
///
/// - `twilio`: Twilio's Messages API, or any service that speaks it (`base_url`), with the account SID
///   and auth token, sending from a number (`from`) or a messaging service (`messaging_service_sid`).
/// - `json`: a generic HTTP endpoint that takes `{"to", "from", "text"}` as JSON, with an optional
///   authentication header (`auth_header: X-Api-Key`, `auth_value: …`).
///
/// Secrets (`auth_token`, `auth_value`) are shown as `********` in answers.
public struct SMSProviderConfiguration: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case twilio
        case json

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let kind = Kind(rawValue: text.lowercased()) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not one of twilio, json")
            }
            self = kind
        }
    }

    public var type: Kind
    /// A label for attempt details (`twilio-eu`), since the credentials are never shown.
    public var name: String?
    /// The sender: an E.164 number, a short code, or an alphanumeric sender ID (up to 11 characters).
    public var from: String?

    // Twilio
    public var accountSID: String?
    public var authToken: String?
    public var messagingServiceSID: String?
    /// Where the Messages API lives; `https://api.twilio.com` unless a compatible service is used.
    public var baseURL: String?

    // Generic JSON
    public var url: String?
    /// The header that carries `auth_value` (default `Authorization`).
    public var authHeader: String?
    public var authValue: String?

    public static let twilioBaseURL = "https://api.twilio.com"
    public static let redactedSecret = "********"

    public init(
        type: Kind, name: String? = nil, from: String? = nil, accountSID: String? = nil, authToken: String? = nil,
        messagingServiceSID: String? = nil, baseURL: String? = nil, url: String? = nil, authHeader: String? = nil, authValue: String? = nil
    ) {
        self.type = type
        self.name = name
        self.from = from
        self.accountSID = accountSID
        self.authToken = authToken
        self.messagingServiceSID = messagingServiceSID
        self.baseURL = baseURL
        self.url = url
        self.authHeader = authHeader
        self.authValue = authValue
    }

    /// A Twilio account.
    public static func twilio(
        accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil, baseURL: String? = nil, name: String? = nil
    ) -> SMSProviderConfiguration {
        SMSProviderConfiguration(
            type: .twilio, name: name, from: from, accountSID: accountSID, authToken: authToken, messagingServiceSID: messagingServiceSID,
            baseURL: baseURL)
    }

    /// A generic JSON endpoint.
    public static func json(url: String, from: String? = nil, authHeader: String? = nil, authValue: String? = nil, name: String? = nil)
        -> SMSProviderConfiguration
    {
        SMSProviderConfiguration(type: .json, name: name, from: from, url: url, authHeader: authHeader, authValue: authValue)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, name, from
        case accountSID = "account_sid"
        case authToken = "auth_token"
        case messagingServiceSID = "messaging_service_sid"
        case baseURL = "base_url"
        case url
        case authHeader = "auth_header"
        case authValue = "auth_value"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        type = try container.decode(Kind.self, forKey: .type)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        from = try container.decodeIfPresent(String.self, forKey: .from)
        accountSID = try container.decodeIfPresent(String.self, forKey: .accountSID)
        authToken = try container.decodeIfPresent(String.self, forKey: .authToken)
        messagingServiceSID = try container.decodeIfPresent(String.self, forKey: .messagingServiceSID)
        baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        authHeader = try container.decodeIfPresent(String.self, forKey: .authHeader)
        authValue = try container.decodeIfPresent(String.self, forKey: .authValue)
    }

    /// The same account with its secrets replaced by `********`.
    public var redacted: SMSProviderConfiguration {
        var copy = self
        if authToken != nil { copy.authToken = Self.redactedSecret }
        if authValue != nil { copy.authValue = Self.redactedSecret }
        return copy
    }

    /// Whether `other` is the same account (type and account SID or URL), so a redacted secret sent
    /// back for this one may take the other's stored value.
    func isSameAccount(as other: SMSProviderConfiguration) -> Bool {
        guard type == other.type else { return false }
        switch type {
        case .twilio: return accountSID == other.accountSID && (baseURL ?? Self.twilioBaseURL) == (other.baseURL ?? Self.twilioBaseURL)
        case .json: return url == other.url
        }
    }

    /// Where requests go, for names and circuits.
    public var endpoint: URL? {
        switch type {
        case .twilio: URL(string: baseURL ?? Self.twilioBaseURL)
        case .json: url.flatMap(URL.init(string:))
        }
    }
}
