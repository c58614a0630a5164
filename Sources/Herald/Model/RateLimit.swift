import Foundation

/// At most `limit` messages per `period` (`10` per `1h`), as a token bucket: the full allowance at once,
/// then one more every `period / limit`.
public struct RateLimit: Sendable, Codable, Hashable {
    public var limit: Int
    public var period: String

    public init(limit: Int, period: String) {
        self.limit = limit
        self.period = period
    }

    public static let limitRule = NumberRule.whole(1...1_000_000_000)

    enum CodingKeys: String, CodingKey, CaseIterable { case limit, period }

    /// The limit's range is checked by `problems`, with the rest of the document.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        guard let limit = try container.decodeIfPresent(Int.self, forKey: .limit, within: Self.limitRule, deferringRange: true) else {
            throw DecodingError.keyNotFound(CodingKeys.limit, .init(codingPath: container.codingPath, debugDescription: "is required"))
        }
        self.limit = limit
        self.period = try container.decode(String.self, forKey: .period)
    }

    public var periodSeconds: Double? { DurationText.seconds(period) }

    public func problems(prefix: String) -> [FieldError] {
        var problems: [FieldError] = []
        if let reason = Self.limitRule.problem(limit) { problems.append(FieldError("\(prefix).limit", reason)) }
        if let seconds = periodSeconds {
            if seconds < 1 || seconds > 31 * 86_400 { problems.append(FieldError("\(prefix).period", "must be between 1s and 31d")) }
        } else {
            problems.append(FieldError("\(prefix).period", "'\(period)' is not a duration like 1m, 1h or 1d"))
        }
        return problems
    }
}

/// What happens to a message over a rate limit.
public enum LimitAction: String, Sendable, Codable, Hashable {
    /// Queued until a token is free: the burst goes out spread at the allowed rate, nothing is dropped.
    case `defer`
    /// Not sent, with reason `rate_limited`.
    case suppress
}

/// The server's (and a tenant's) limits on notifications, besides each event type's own
/// per-subscriber limit. Critical events are never limited.
public struct RateLimitSettings: Sendable, Codable, Hashable {
    /// Per subscriber and channel, across every event type.
    public var perSubscriber: RateLimit?
    /// Per subscriber and channel for each event type that sets no `rate_limit` of its own.
    public var perSubscriberEventType: RateLimit?
    /// Per tenant and channel (all subscribers together): what an SMS budget or a provider's quota allows.
    public var perChannel: [ChannelKind: RateLimit]
    /// Per tenant, every message on every channel.
    public var perTenant: RateLimit?

    public init(
        perSubscriber: RateLimit? = nil, perSubscriberEventType: RateLimit? = nil, perChannel: [ChannelKind: RateLimit] = [:],
        perTenant: RateLimit? = nil
    ) {
        self.perSubscriber = perSubscriber
        self.perSubscriberEventType = perSubscriberEventType
        self.perChannel = perChannel
        self.perTenant = perTenant
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case perSubscriber = "per_subscriber"
        case perSubscriberEventType = "per_subscriber_event_type"
        case perChannel = "per_channel"
        case perTenant = "per_tenant"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        perSubscriber = try container.decodeIfPresent(RateLimit.self, forKey: .perSubscriber)
        perSubscriberEventType = try container.decodeIfPresent(RateLimit.self, forKey: .perSubscriberEventType)
        perTenant = try container.decodeIfPresent(RateLimit.self, forKey: .perTenant)
        var perChannel: [ChannelKind: RateLimit] = [:]
        for (name, limit) in try container.decodeIfPresent([String: RateLimit].self, forKey: .perChannel) ?? [:] {
            guard let channel = ChannelKind(rawValue: name) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: container.codingPath + [CodingKeys.perChannel], debugDescription: "unknown channel '\(name)'"))
            }
            perChannel[channel] = limit
        }
        self.perChannel = perChannel
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(perSubscriber, forKey: .perSubscriber)
        try container.encodeIfPresent(perSubscriberEventType, forKey: .perSubscriberEventType)
        try container.encode(Dictionary(uniqueKeysWithValues: perChannel.map { ($0.key.rawValue, $0.value) }), forKey: .perChannel)
        try container.encodeIfPresent(perTenant, forKey: .perTenant)
    }

    public func problems(prefix: String = "rate_limits") -> [FieldError] {
        var problems: [FieldError] = []
        problems += perSubscriber?.problems(prefix: "\(prefix).per_subscriber") ?? []
        problems += perSubscriberEventType?.problems(prefix: "\(prefix).per_subscriber_event_type") ?? []
        for (channel, limit) in perChannel.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            problems += limit.problems(prefix: "\(prefix).per_channel.\(channel.rawValue)")
        }
        problems += perTenant?.problems(prefix: "\(prefix).per_tenant") ?? []
        return problems
    }

    /// A tenant's own settings over the server's: each limit the tenant sets replaces the server's.
    public func overridden(by tenant: RateLimitSettings?) -> RateLimitSettings {
        guard let tenant else { return self }
        var merged = self
        if let limit = tenant.perSubscriber { merged.perSubscriber = limit }
        if let limit = tenant.perSubscriberEventType { merged.perSubscriberEventType = limit }
        merged.perChannel.merge(tenant.perChannel) { _, tenants in tenants }
        if let limit = tenant.perTenant { merged.perTenant = limit }
        return merged
    }

    /// The limits that apply to one event type's messages, with their buckets' scopes.
    public func applied(to eventType: EventType) -> [ScopedRateLimit] {
        guard eventType.priority != .critical else { return [] }
        var applied: [ScopedRateLimit] = []
        if let limit = eventType.rateLimit ?? perSubscriberEventType { applied.append(ScopedRateLimit(scope: .subscriberEventType, limit: limit)) }
        if let limit = perSubscriber { applied.append(ScopedRateLimit(scope: .subscriber, limit: limit)) }
        for (channel, limit) in perChannel.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where eventType.channels.contains(channel) {
            applied.append(ScopedRateLimit(scope: .channel, limit: limit, channel: channel))
        }
        if let limit = perTenant { applied.append(ScopedRateLimit(scope: .tenant, limit: limit)) }
        return applied
    }
}

/// One limit as planning applies it: whose bucket it fills, and for which channel when only one.
public struct ScopedRateLimit: Sendable, Codable, Hashable {
    public enum Scope: String, Sendable, Codable, Hashable {
        case subscriber
        case subscriberEventType = "subscriber_event_type"
        case channel
        case tenant
    }

    public var scope: Scope
    public var limit: RateLimit
    /// For `channel`: the one channel it limits.
    public var channel: ChannelKind?

    public init(scope: Scope, limit: RateLimit, channel: ChannelKind? = nil) {
        self.scope = scope
        self.limit = limit
        self.channel = channel
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case scope, limit, channel }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        scope = try container.decode(Scope.self, forKey: .scope)
        limit = try container.decode(RateLimit.self, forKey: .limit)
        channel = try container.decodeIfPresent(ChannelKind.self, forKey: .channel)
    }

    /// The bucket a message spends from, or nil when the limit does not cover its channel. Subscriber
    /// buckets are per channel too, so "10 an hour" lets ten events through on each channel.
    public func bucketKey(tenantID: String, subscriberRowID: Int64, eventType: String, channel: ChannelKind) -> String? {
        switch scope {
        case .subscriber: return "s:\(subscriberRowID):\(channel.rawValue)"
        case .subscriberEventType: return "se:\(subscriberRowID):\(eventType):\(channel.rawValue)"
        case .channel:
            guard self.channel == channel else { return nil }
            return "c:\(tenantID):\(channel.rawValue)"
        case .tenant: return "t:\(tenantID)"
        }
    }
}
