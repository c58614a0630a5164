import Foundation

/// A recipient, identified by the app's own id inside a tenant.
public struct Subscriber: Sendable, Codable, Hashable {
    public var id: String
    public var name: String?
    public var email: String?
    public var phone: String?
    /// BCP 47 language tag (`en`, `fr-CA`) used to pick templates.
    public var locale: String?
    /// IANA time zone (`Europe/London`) used for quiet hours and dates in templates.
    public var timezone: String?
    /// A daily window, in `timezone`, during which non-critical messages wait.
    public var quietHours: QuietHours?
    public var data: [String: JSONValue]?
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(
        id: String, name: String? = nil, email: String? = nil, phone: String? = nil, locale: String? = nil,
        timezone: String? = nil, quietHours: QuietHours? = nil, data: [String: JSONValue]? = nil
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.locale = locale
        self.timezone = timezone
        self.quietHours = quietHours
        self.data = data
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, email, phone, locale, timezone, data
        case quietHours = "quiet_hours"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The subscriber fields a trigger or an upsert may set; absent fields keep their stored values.
public struct SubscriberInput: Sendable, Codable, Hashable {
    public var id: String
    public var name: String?
    public var email: String?
    public var phone: String?
    public var locale: String?
    public var timezone: String?
    /// `nil` keeps the stored quiet hours, `.some(nil)` (`"quiet_hours": null` in JSON) removes them,
    /// `.some(hours)` replaces them.
    public var quietHours: QuietHours??
    public var data: [String: JSONValue]?

    public init(
        id: String, name: String? = nil, email: String? = nil, phone: String? = nil, locale: String? = nil,
        timezone: String? = nil, quietHours: QuietHours?? = nil, data: [String: JSONValue]? = nil
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.locale = locale
        self.timezone = timezone
        self.quietHours = quietHours
        self.data = data
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, email, phone, locale, timezone, data
        case quietHours = "quiet_hours"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.email = try container.decodeIfPresent(String.self, forKey: .email)
        self.phone = try container.decodeIfPresent(String.self, forKey: .phone)
        self.locale = try container.decodeIfPresent(String.self, forKey: .locale)
        self.timezone = try container.decodeIfPresent(String.self, forKey: .timezone)
        // Absent keeps the stored value; an explicit null clears it.
        if container.contains(.quietHours) {
            self.quietHours = .some(try container.decodeNil(forKey: .quietHours) ? nil : container.decode(QuietHours.self, forKey: .quietHours))
        }
        self.data = try container.decodeIfPresent([String: JSONValue].self, forKey: .data)
    }
}
