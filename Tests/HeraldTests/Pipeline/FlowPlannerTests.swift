import Foundation
import Testing

@testable import Herald

/// The planning rules as tables: recipients, a type and a snapshot of the flow state in; rows, their
/// reasons and the state changes out. No database and no clock: the time is an input.
@Suite("FlowPlanner")
struct FlowPlannerTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// One trigger of `type` (with the limits the engine would apply) to `subscribers`, planned as the
    /// stores plan it: routing by ``MessagePlanner``, then flow control over `state`.
    static func plan(
        _ type: EventType, to subscribers: [Subscriber], payload: [String: JSONValue] = [:], state: FlowState = FlowState(),
        at now: Date = now, rules: [Int64: [PreferenceRule]] = [:], events: Int = 1
    ) -> MessageWrites {
        var type = type
        type.appliedLimits = RateLimitSettings().applied(to: type)
        let records = subscribers.enumerated().map { index, subscriber in
            RecipientRecord(rowID: Int64(index + 1), subscriber: subscriber, rules: rules[Int64(index + 1)] ?? [])
        }
        let planner = MessagePlanner(
            eventType: type.plan, preferences: PreferenceResolver(tenantRules: []), dueAt: now, digestKey: type.digest?.digestKey(payload: payload))
        let planning = (0..<events).map { index in
            PlanningEvent(
                tenantID: "t", eventPK: Int64(100 + index), plan: type.plan, payload: payload, dueAt: now,
                expiresAt: now.addingTimeInterval(86_400), messages: planner.plan(records))
        }
        return FlowPlanner.decide(planning, state: state, now: now)
    }

    static func type(_ priority: Priority = .low, _ configure: (inout EventType) -> Void = { _ in }) -> EventType {
        var type = EventType(key: "update", priority: priority, channels: [.inApp])
        configure(&type)
        return type
    }

    static let ana = Subscriber(id: "ana")
    static let dedup = DedupSpec(window: "10m", fields: ["ref"])

    struct Outcome: Equatable, CustomStringConvertible {
        var status: MessageStatus
        var reason: String?
        /// Seconds after `now` the message is due.
        var dueIn: Double

        var description: String { "\(status.rawValue)/\(reason ?? "-")+\(dueIn)s" }
    }

    static func outcomes(_ writes: MessageWrites) -> [Outcome] {
        writes.messages.map { Outcome(status: $0.status, reason: $0.reason, dueIn: ($0.availableAt.timeIntervalSince(now) * 1000).rounded() / 1000) }
    }

    // MARK: Dedup

    struct DedupCase: Sendable, CustomTestStringConvertible {
        var name: String
        var stored: Bool
        var events: Int
        var expected: [Outcome]
        var testDescription: String { name }
    }

    @Test(
        "dedup: the first of a window goes and sets the key; a repeat in the window, stored or in the same batch, is a duplicate of it",
        arguments: [
            DedupCase(name: "first", stored: false, events: 1, expected: [Outcome(status: .queued, reason: nil, dueIn: 0)]),
            DedupCase(name: "stored original", stored: true, events: 1, expected: [Outcome(status: .suppressed, reason: "duplicate", dueIn: 0)]),
            DedupCase(
                name: "two in one batch", stored: false, events: 2,
                expected: [Outcome(status: .queued, reason: nil, dueIn: 0), Outcome(status: .suppressed, reason: "duplicate", dueIn: 0)]),
        ])
    func dedup(_ row: DedupCase) {
        let type = Self.type { $0.dedup = Self.dedup }
        let payload: [String: JSONValue] = ["ref": "inv-1"]
        var state = FlowState()
        let slot = DedupSlot(subscriberRowID: 1, eventType: "update", channel: .inApp, fingerprint: Self.dedup.fingerprint(payload: payload))
        if row.stored { state.dedup[slot] = .stored(42) }
        let writes = Self.plan(type, to: [Self.ana], payload: payload, state: state, events: row.events)
        #expect(Self.outcomes(writes) == row.expected)
        if row.stored {
            #expect(writes.messages[0].related == .stored(42))
            #expect(writes.dedupKeys.isEmpty)
        } else {
            #expect(writes.dedupKeys == [DedupKeyRow(slot: slot, message: 0, expiresAt: Self.now.addingTimeInterval(600))])
            if row.events == 2 { #expect(writes.messages[1].related == .planned(0)) }
        }
    }

    @Test("dedup comes before the digest: a repeat is a duplicate, not an item of the open digest")
    func dedupBeforeDigest() {
        let type = Self.type {
            $0.dedup = Self.dedup
            $0.digest = DigestSpec(window: "1h")
        }
        let payload: [String: JSONValue] = ["ref": "inv-1"]
        var state = FlowState()
        state.dedup[DedupSlot(subscriberRowID: 1, eventType: "update", channel: .inApp, fingerprint: Self.dedup.fingerprint(payload: payload))] =
            .stored(7)
        state.digests[DigestSlot(subscriberRowID: 1, eventType: "update", channel: .inApp, key: "")] = OpenDigest(
            digest: .stored(3), message: .stored(7), flushAt: Self.now.addingTimeInterval(1800))
        let writes = Self.plan(type, to: [Self.ana], payload: payload, state: state)
        #expect(Self.outcomes(writes) == [Outcome(status: .suppressed, reason: "duplicate", dueIn: 0)])
        #expect(writes.messages[0].digest == nil)
        #expect(writes.digests.isEmpty)
    }

    // MARK: Digests and rate limits

    struct LimitCase: Sendable, CustomTestStringConvertible {
        var name: String
        var action: LimitAction
        var digest: Bool
        var expected: [Outcome]
        var buckets: Int
        var testDescription: String { name }
    }

    @Test(
        "one an hour: defer waits for the next token, suppress drops; a digest's first item takes the token and later items merge without one",
        arguments: [
            LimitCase(
                name: "defer", action: .defer, digest: false,
                expected: [
                    Outcome(status: .queued, reason: nil, dueIn: 0), Outcome(status: .queued, reason: "rate_limited", dueIn: 3600),
                    Outcome(status: .queued, reason: "rate_limited", dueIn: 7200),
                ], buckets: 1),
            LimitCase(
                name: "suppress", action: .suppress, digest: false,
                expected: [
                    Outcome(status: .queued, reason: nil, dueIn: 0), Outcome(status: .suppressed, reason: "rate_limited", dueIn: 0),
                    Outcome(status: .suppressed, reason: "rate_limited", dueIn: 0),
                ], buckets: 1),
            LimitCase(
                name: "digest under the limit", action: .defer, digest: true,
                expected: [
                    Outcome(status: .queued, reason: "digest", dueIn: 3600), Outcome(status: .merged, reason: "digest", dueIn: 3600),
                    Outcome(status: .merged, reason: "digest", dueIn: 3600),
                ], buckets: 1),
        ])
    func limits(_ row: LimitCase) {
        let type = Self.type {
            $0.rateLimit = RateLimit(limit: 1, period: "1h")
            $0.onLimit = row.action
            if row.digest { $0.digest = DigestSpec(window: "1h") }
        }
        let writes = Self.plan(type, to: [Self.ana], events: 3)
        #expect(Self.outcomes(writes) == row.expected)
        #expect(writes.buckets.count == row.buckets)
        if row.digest {
            #expect(writes.digests.count == 1)
            #expect(writes.messages[1].digest == .planned(0))
            #expect(writes.messages[1].related == .planned(0))
            // The digest took the only token; the merged items took none.
            #expect(writes.buckets.first?.bucket.tokens == 0)
        }
    }

    @Test("a digest already open takes the item; when the stored bucket is empty a new digest's first item waits for a token")
    func digestWithStoredState() {
        let type = Self.type {
            $0.digest = DigestSpec(window: "1h")
            $0.rateLimit = RateLimit(limit: 1, period: "2h")
        }
        var open = FlowState()
        open.digests[DigestSlot(subscriberRowID: 1, eventType: "update", channel: .inApp, key: "")] = OpenDigest(
            digest: .stored(3), message: .stored(9), flushAt: Self.now.addingTimeInterval(600))
        let merged = Self.plan(type, to: [Self.ana], state: open)
        #expect(Self.outcomes(merged) == [Outcome(status: .merged, reason: "digest", dueIn: 600)])
        #expect(merged.messages[0].digest == .stored(3) && merged.messages[0].related == .stored(9))
        #expect(merged.buckets.isEmpty)

        var empty = FlowState()
        empty.buckets["se:1:update:in_app"] = StoredBucket(tokens: 0, updatedAt: Self.now)
        let waiting = Self.plan(type, to: [Self.ana], state: empty)
        // The next token comes two hours on, after the digest would close: it closes when its first item may go.
        #expect(Self.outcomes(waiting) == [Outcome(status: .queued, reason: "rate_limited", dueIn: 7200)])
        #expect(waiting.digests.first?.flushAt == Self.now.addingTimeInterval(7200))
        var refilling = empty
        refilling.buckets["se:1:update:in_app"] = StoredBucket(tokens: 0, updatedAt: Self.now.addingTimeInterval(-5400))
        // A token earned before the digest closes lets it close on time.
        #expect(Self.outcomes(Self.plan(type, to: [Self.ana], state: refilling)) == [Outcome(status: .queued, reason: "digest", dueIn: 3600)])
    }

    // MARK: Critical bypass, preferences and addresses

    @Test("critical bypasses preferences, quiet hours, digests and limits; the rest are suppressed with their reasons")
    func criticalBypass() {
        let quiet = Subscriber(id: "q", timezone: "UTC", quietHours: QuietHours(start: "00:00", end: "23:59"))
        let optedOut: [Int64: [PreferenceRule]] = [1: [PreferenceRule(eventType: "update", channel: "in_app", enabled: false)]]
        let configure: (inout EventType) -> Void = {
            $0.digest = DigestSpec(window: "1h")
            $0.rateLimit = RateLimit(limit: 1, period: "1h")
        }
        let low = Self.plan(Self.type(.low, configure), to: [quiet], rules: optedOut, events: 2)
        #expect(Self.outcomes(low).map(\.reason) == ["preference", "preference"])
        let critical = Self.plan(Self.type(.critical, configure), to: [quiet], rules: optedOut, events: 2)
        #expect(Self.outcomes(critical) == [Outcome(status: .queued, reason: nil, dueIn: 0), Outcome(status: .queued, reason: nil, dueIn: 0)])
        #expect(critical.digests.isEmpty && critical.buckets.isEmpty)
    }

    @Test("no address on a channel: suppressed as no_address, with no flow state touched")
    func noAddress() {
        var type = Self.type { $0.dedup = Self.dedup }
        type.channels = [.email, .inApp]
        let writes = Self.plan(type, to: [Self.ana], payload: ["ref": "x"])
        #expect(Self.outcomes(writes).map(\.reason) == ["no_address", nil])
        #expect(writes.dedupKeys.map(\.message) == [1])
    }

    // MARK: Quiet hours

    struct QuietCase: Sendable, CustomTestStringConvertible {
        var name: String
        var timezone: String
        var start: String
        var end: String
        /// ISO 8601 time the message is due.
        var due: String
        /// ISO 8601 time it may go, or nil when it goes at once.
        var release: String?
        var testDescription: String { name }
    }

    @Test(
        "quiet hours hold a message until the window ends on the subscriber's clock, across midnight and a DST change",
        arguments: [
            QuietCase(
                name: "before midnight", timezone: "Europe/Berlin", start: "22:00", end: "07:00", due: "2026-06-10T21:30:00Z",
                release: "2026-06-11T05:00:00Z"),
            QuietCase(
                name: "after midnight", timezone: "Europe/Berlin", start: "22:00", end: "07:00", due: "2026-06-11T01:00:00Z",
                release: "2026-06-11T05:00:00Z"),
            QuietCase(
                name: "outside", timezone: "Europe/Berlin", start: "22:00", end: "07:00", due: "2026-06-11T12:00:00Z", release: nil),
            QuietCase(
                name: "night clocks go forward", timezone: "Europe/Berlin", start: "22:00", end: "07:00", due: "2026-03-28T22:30:00Z",
                release: "2026-03-29T05:00:00Z"),
            QuietCase(
                name: "night clocks go back", timezone: "America/New_York", start: "22:00", end: "07:00", due: "2026-11-01T03:00:00Z",
                release: "2026-11-01T12:00:00Z"),
        ])
    func quietHours(_ row: QuietCase) throws {
        let due = try #require(Timestamp.parse(row.due))
        let subscriber = Subscriber(id: "q", timezone: row.timezone, quietHours: QuietHours(start: row.start, end: row.end))
        let writes = Self.plan(Self.type(), to: [subscriber], at: due)
        let message = try #require(writes.messages.first)
        #expect(message.status == .queued)
        if let release = row.release {
            #expect(message.availableAt == Timestamp.parse(release))
            #expect(message.reason == "quiet_hours")
        } else {
            #expect(message.availableAt == due)
            #expect(message.reason == nil)
        }
    }

    // MARK: What the store loads

    @Test("needs: each dedup key, digest and bucket the batch can touch, once, and nothing for messages already suppressed")
    func needs() {
        var type = Self.type {
            $0.dedup = Self.dedup
            $0.digest = DigestSpec(window: "1h")
            $0.rateLimit = RateLimit(limit: 5, period: "1h")
        }
        type.appliedLimits = RateLimitSettings().applied(to: type)
        let records = [
            RecipientRecord(rowID: 1, subscriber: Self.ana, rules: []),
            RecipientRecord(rowID: 2, subscriber: Subscriber(id: "bo"), rules: [PreferenceRule(eventType: "*", channel: "in_app", enabled: false)]),
        ]
        let messages = MessagePlanner(eventType: type.plan, preferences: PreferenceResolver(tenantRules: []), dueAt: Self.now, digestKey: "")
            .plan(records)
        let event = PlanningEvent(
            tenantID: "t", eventPK: 1, plan: type.plan, payload: ["ref": "a"], dueAt: Self.now, expiresAt: Self.now, messages: messages)
        let needs = FlowPlanner.needs([event, event])
        #expect(needs.dedup.map(\.subscriberRowID) == [1])
        #expect(needs.digests.map(\.subscriberRowID) == [1])
        #expect(needs.buckets == ["se:1:update:in_app"])
    }
}
