/// A kind of event an app can trigger (`visitor_arrival`, `payment_due`): its priority, channels,
/// declared parameters and templates.
///
/// Defined in `herald.yml` for every tenant, and overridable per tenant over the API.
public struct EventType: Sendable, Codable, Hashable {
    public var key: String
    public var name: String?
    public var category: String?
    public var description: String?
    public var priority: Priority
    public var channels: [ChannelKind]
    public var parameters: [String: ParameterSpec]
    /// Templates per channel, then locale, then part (`title`, `subject`, `html` …).
    public var templates: [ChannelKind: [String: [String: String]]]
    /// Plainer templates, same shape, used when a message's data is missing at send time (a subscriber
    /// without a name, a parameter made required after the event was accepted) instead of failing it.
    public var fallbackTemplates: [ChannelKind: [String: [String: String]]]
    /// Event-type preference defaults per channel (true = on); subscribers and tenants override them.
    public var defaults: [ChannelKind: Bool]
    /// How long events and messages of this type are kept; the server-wide default applies when nil.
    public var retentionDays: Int?

    public init(
        key: String, name: String? = nil, category: String? = nil, description: String? = nil, priority: Priority,
        channels: [ChannelKind], parameters: [String: ParameterSpec] = [:],
        templates: [ChannelKind: [String: [String: String]]] = [:], defaults: [ChannelKind: Bool] = [:],
        retentionDays: Int? = nil, fallbackTemplates: [ChannelKind: [String: [String: String]]] = [:]
    ) {
        self.fallbackTemplates = fallbackTemplates
        self.key = key
        self.name = name
        self.category = category
        self.description = description
        self.priority = priority
        self.channels = channels
        self.parameters = parameters
        self.templates = templates
        self.defaults = defaults
        self.retentionDays = retentionDays
    }

    enum CodingKeys: String, CodingKey {
        case key, name, category, description, priority, channels, parameters, templates, defaults
        case retentionDays = "retention_days"
        case fallbackTemplates = "fallback_templates"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.key = try container.decodeIfPresent(String.self, forKey: .key) ?? ""
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.category = try container.decodeIfPresent(String.self, forKey: .category)
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.priority = try container.decode(Priority.self, forKey: .priority)
        self.channels = try container.decode([ChannelKind].self, forKey: .channels)
        self.parameters = try container.decodeIfPresent([String: ParameterSpec].self, forKey: .parameters) ?? [:]
        self.templates = try Self.decodeTemplates(container, .templates)
        self.fallbackTemplates = try Self.decodeTemplates(container, .fallbackTemplates)
        let rawDefaults = try container.decodeIfPresent([String: Bool].self, forKey: .defaults) ?? [:]
        var defaults: [ChannelKind: Bool] = [:]
        for (name, enabled) in rawDefaults {
            guard let channel = ChannelKind(rawValue: name) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: container.codingPath + [CodingKeys.defaults], debugDescription: "unknown channel '\(name)'"))
            }
            defaults[channel] = enabled
        }
        self.defaults = defaults
        self.retentionDays = try container.decodeIfPresent(Int.self, forKey: .retentionDays)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(category, forKey: .category)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(priority, forKey: .priority)
        try container.encode(channels, forKey: .channels)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(Dictionary(uniqueKeysWithValues: templates.map { ($0.key.rawValue, $0.value) }), forKey: .templates)
        try container.encode(Dictionary(uniqueKeysWithValues: defaults.map { ($0.key.rawValue, $0.value) }), forKey: .defaults)
        try container.encodeIfPresent(retentionDays, forKey: .retentionDays)
        if !fallbackTemplates.isEmpty {
            try container.encode(Dictionary(uniqueKeysWithValues: fallbackTemplates.map { ($0.key.rawValue, $0.value) }), forKey: .fallbackTemplates)
        }
    }

    private static func decodeTemplates(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws
        -> [ChannelKind: [String: [String: String]]]
    {
        let raw = try container.decodeIfPresent([String: [String: [String: String]]].self, forKey: key) ?? [:]
        var templates: [ChannelKind: [String: [String: String]]] = [:]
        for (name, locales) in raw {
            guard let channel = ChannelKind(rawValue: name) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: container.codingPath + [key],
                        debugDescription: "unknown channel '\(name)'; expected one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))"
                    ))
            }
            templates[channel] = locales
        }
        return templates
    }
}
