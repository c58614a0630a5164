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
    /// Ten years at most, for an event type and for the server's default (`retention_days`).
    public static let retentionDaysRule = NumberRule.whole(1...3650, unit: "days")
    /// Suppresses a repeat of the same event for the same recipient and channel within a window.
    public var dedup: DedupSpec?
    /// At most this many messages of the type per subscriber and channel (the server's and tenant's
    /// limits apply too). Critical types are never limited.
    public var rateLimit: RateLimit?
    /// What happens over any limit: deferred (the default) or suppressed.
    public var onLimit: LimitAction?
    /// Collects a subscriber's messages of the type into one per channel.
    public var digest: DigestSpec?
    /// Templates for digests, same shape as `templates`; they see `items` (each with the event's payload,
    /// its `event_id`, `created_at` and the rendered parts of its own message) and `count`. Built-in
    /// ones list the items' titles when a channel has none.
    public var digestTemplates: [ChannelKind: [String: [String: String]]]
    /// Who a trigger without recipients notifies.
    public var audience: AudienceSpec?
    /// The steps each recipient's notification takes; without one, every channel at once.
    public var workflow: Workflow?
    /// Files every email of this type carries (base64 `content`, checked when the type is saved), copied
    /// to each event when it is accepted, so an event keeps the files it was sent with.
    public var attachments: [Attachment] = []
    /// Open and click tracking of this type's email, over the tenant's `tracking` field by field (never for
    /// a critical message).
    public var tracking: EmailTracking?
    /// The rate limits in force when an event was accepted, stored with it so a topic fanned out later
    /// is planned under the same rules. Not part of a definition; set by the engine.
    public var appliedLimits: [ScopedRateLimit]

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
        self.digestTemplates = [:]
        self.appliedLimits = []
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, name, category, description, priority, channels, parameters, templates, defaults
        case retentionDays = "retention_days"
        case fallbackTemplates = "fallback_templates"
        case dedup
        case rateLimit = "rate_limit"
        case onLimit = "on_limit"
        case digest
        case digestTemplates = "digest_templates"
        case audience
        case workflow
        case attachments
        case tracking
        case appliedLimits = "applied_limits"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
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
        self.retentionDays = try container.decodeIfPresent(Int.self, forKey: .retentionDays, within: Self.retentionDaysRule, deferringRange: true)
        self.dedup = try container.decodeIfPresent(DedupSpec.self, forKey: .dedup)
        self.rateLimit = try container.decodeIfPresent(RateLimit.self, forKey: .rateLimit)
        self.onLimit = try container.decodeIfPresent(LimitAction.self, forKey: .onLimit)
        self.digest = try container.decodeIfPresent(DigestSpec.self, forKey: .digest)
        self.digestTemplates = try Self.decodeTemplates(container, .digestTemplates)
        self.audience = try container.decodeIfPresent(AudienceSpec.self, forKey: .audience)
        self.workflow = try container.decodeIfPresent(Workflow.self, forKey: .workflow)
        self.attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments) ?? []
        self.tracking = try container.decodeIfPresent(EmailTracking.self, forKey: .tracking)
        self.appliedLimits = try container.decodeIfPresent([ScopedRateLimit].self, forKey: .appliedLimits) ?? []
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
        try container.encodeIfPresent(dedup, forKey: .dedup)
        try container.encodeIfPresent(rateLimit, forKey: .rateLimit)
        try container.encodeIfPresent(onLimit, forKey: .onLimit)
        try container.encodeIfPresent(digest, forKey: .digest)
        if !digestTemplates.isEmpty {
            try container.encode(Dictionary(uniqueKeysWithValues: digestTemplates.map { ($0.key.rawValue, $0.value) }), forKey: .digestTemplates)
        }
        try container.encodeIfPresent(audience, forKey: .audience)
        try container.encodeIfPresent(workflow, forKey: .workflow)
        if !attachments.isEmpty { try container.encode(attachments, forKey: .attachments) }
        try container.encodeIfPresent(tracking, forKey: .tracking)
        if !appliedLimits.isEmpty { try container.encode(appliedLimits, forKey: .appliedLimits) }
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
