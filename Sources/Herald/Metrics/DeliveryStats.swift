import Foundation

/// A tenant's delivery figures over a recent window, for `GET /v1/stats`: what was sent and what failed,
/// the success rate, per event type and channel, and how long a trigger took to reach its provider.
public struct DeliveryStats: Sendable, Codable, Hashable {
    public struct Window: Sendable, Codable, Hashable {
        public var from: Date
        public var to: Date
        public var seconds: Int
    }

    /// Messages by outcome. `sent` counts sent and delivered; `failed` counts failed and dead-lettered.
    public struct Counts: Sendable, Codable, Hashable {
        public var sent = 0
        public var failed = 0
        public var suppressed = 0
        /// Queued or being sent right now (including retries that are waiting).
        public var pending = 0
        public var cancelled = 0
        /// Collected into digests (each digest's own message counts once, under its outcome).
        public var merged = 0
        public var total = 0
        /// sent / (sent + failed), or nil when nothing has finished yet.
        public var successRate: Double?

        mutating func add(status: MessageStatus, count: Int) {
            switch status {
            case .sent, .delivered: sent += count
            case .failed, .deadLettered: failed += count
            case .suppressed: suppressed += count
            case .queued, .sending: pending += count
            case .cancelled: cancelled += count
            case .merged: merged += count
            }
            total += count
            successRate = sent + failed == 0 ? nil : Double(sent) / Double(sent + failed)
        }

        enum CodingKeys: String, CodingKey {
            case sent, failed, suppressed, pending, cancelled, merged, total
            case successRate = "success_rate"
        }
    }

    /// Trigger → accepted by the provider (or stored in the inbox), in milliseconds.
    public struct Latency: Sendable, Codable, Hashable {
        public var p50: Double?
        public var p95: Double?
        public var p99: Double?
        public var samples: Int
    }

    public var window: Window
    public var totals: Counts
    public var latencyMs: Latency
    public var byEventType: [String: Counts]
    public var byChannel: [String: Counts]
    /// What came back about sent email in the window: bounces (hard and soft) and complaints.
    public var emailFeedback = EmailFeedbackCounts()
    /// Opens and clicks of the window's sent email (tracked email only; opens inflated by privacy proxies).
    public var emailTracking = EmailEngagementCounts()

    /// Bounces and complaints recorded in the window (they arrive after the message was sent, so they
    /// count when they arrive).
    public struct EmailFeedbackCounts: Sendable, Codable, Hashable {
        /// Hard and soft bounces together.
        public var bounced = 0
        public var hardBounces = 0
        public var softBounces = 0
        public var complained = 0

        public init(_ counts: [EmailFeedback.Kind: Int] = [:]) {
            hardBounces = counts[.hardBounce] ?? 0
            softBounces = counts[.softBounce] ?? 0
            complained = counts[.complaint] ?? 0
            bounced = hardBounces + softBounces
        }

        enum CodingKeys: String, CodingKey {
            case bounced, complained
            case hardBounces = "hard_bounces"
            case softBounces = "soft_bounces"
        }
    }

    enum CodingKeys: String, CodingKey {
        case window, totals
        case latencyMs = "latency_ms"
        case byEventType = "by_event_type"
        case byChannel = "by_channel"
        case emailFeedback = "email_feedback"
        case emailTracking = "email_tracking"
    }

    /// Builds the figures from the store's counts and its sorted latencies.
    public init(window: Window, counts: [StatsCountRow], sortedLatenciesMs: [Double]) {
        self.window = window
        var totals = Counts()
        var byEventType: [String: Counts] = [:]
        var byChannel: [String: Counts] = [:]
        for row in counts {
            totals.add(status: row.status, count: row.count)
            byEventType[row.eventType, default: Counts()].add(status: row.status, count: row.count)
            byChannel[row.channel.rawValue, default: Counts()].add(status: row.status, count: row.count)
        }
        self.totals = totals
        self.byEventType = byEventType
        self.byChannel = byChannel
        let samples = sortedLatenciesMs
        self.latencyMs = Latency(
            p50: samples.percentile(0.50), p95: samples.percentile(0.95), p99: samples.percentile(0.99), samples: samples.count)
    }
}

/// One group of the store's message counts: event type × channel × status.
public struct StatsCountRow: Sendable, Hashable {
    public var eventType: String
    public var channel: ChannelKind
    public var status: MessageStatus
    public var count: Int

    public init(eventType: String, channel: ChannelKind, status: MessageStatus, count: Int) {
        self.eventType = eventType
        self.channel = channel
        self.status = status
        self.count = count
    }
}

extension Array where Element == Double {
    /// Nearest-rank percentile of a sorted array: the smallest value with at least `p` of the samples at or
    /// below it; nil when empty.
    public func percentile(_ p: Double) -> Double? {
        guard !isEmpty else { return nil }
        let rank = Int((p * Double(count)).rounded(.up))
        return self[Swift.max(0, Swift.min(count - 1, rank - 1))]
    }
}
