import Foundation
import Herald
import Testing

@Suite("Rate limit decisions")
struct RateLimitGateTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let tenPerHour = RateLimit(limit: 10, period: "1h")

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var action: LimitAction
        var messages: Int
        var spacingSeconds: Double
        var passed: Int
        var deferred: Int
        var suppressed: Int
        var testDescription: String { name }
    }

    @Test(
        "messages against one bucket of 10 an hour",
        arguments: [
            Case(name: "a burst of 15, deferred", action: .defer, messages: 15, spacingSeconds: 0, passed: 10, deferred: 5, suppressed: 0),
            Case(name: "a burst of 15, suppressed", action: .suppress, messages: 15, spacingSeconds: 0, passed: 10, deferred: 0, suppressed: 5),
            Case(name: "15 one every 6 minutes fit", action: .suppress, messages: 15, spacingSeconds: 360, passed: 15, deferred: 0, suppressed: 0),
            Case(
                name: "15 one a minute: what the refill earned meanwhile lets two more through", action: .suppress, messages: 15, spacingSeconds: 60,
                passed: 12, deferred: 0, suppressed: 3),
        ])
    func decisions(_ example: Case) {
        var buckets = [RateLimitGate.bucket(for: Self.tenPerHour, tokens: nil, updatedAt: nil, now: Self.t0)]
        var counts = (passed: 0, deferred: 0, suppressed: 0)
        for index in 0..<example.messages {
            switch RateLimitGate.decide(&buckets, action: example.action, at: Self.t0.addingTimeInterval(Double(index) * example.spacingSeconds)) {
            case .pass: counts.passed += 1
            case .deferred: counts.deferred += 1
            case .suppressed: counts.suppressed += 1
            }
        }
        #expect(counts.passed == example.passed)
        #expect(counts.deferred == example.deferred)
        #expect(counts.suppressed == example.suppressed)
    }

    @Test("deferred messages are spread at the allowed rate: the 11th waits 6 minutes, the 12th 12")
    func deferralSpacing() {
        var buckets = [RateLimitGate.bucket(for: Self.tenPerHour, tokens: nil, updatedAt: nil, now: Self.t0)]
        var releases: [Double] = []
        for _ in 0..<12 {
            if case .deferred(let until) = RateLimitGate.decide(&buckets, action: .defer, at: Self.t0) {
                releases.append(until.timeIntervalSince(Self.t0))
            }
        }
        #expect(releases.count == 2)
        #expect(abs(releases[0] - 360) < 0.01)
        #expect(abs(releases[1] - 720) < 0.01)
    }

    @Test("a message needs a token in every bucket that covers it; suppression takes none when one is empty")
    func everyBucket() {
        let full = RateLimitGate.bucket(for: Self.tenPerHour, tokens: nil, updatedAt: nil, now: Self.t0)
        let empty = RateLimitGate.bucket(for: Self.tenPerHour, tokens: 0, updatedAt: Self.t0, now: Self.t0)
        var buckets = [full, empty]
        #expect(RateLimitGate.decide(&buckets, action: .suppress, at: Self.t0) == .suppressed)
        #expect(buckets[0].tokens == 10, "the full bucket kept its token")
        #expect(RateLimitGate.decide(&buckets, action: .defer, at: Self.t0) == .deferred(until: Self.t0.addingTimeInterval(360)))
    }

    @Test("a lowered limit takes effect on a stored bucket at once")
    func loweredLimit() {
        let bucket = RateLimitGate.bucket(for: RateLimit(limit: 2, period: "1h"), tokens: 50, updatedAt: Self.t0, now: Self.t0)
        #expect(bucket.tokens == 2)
    }

    @Test("critical event types are never limited; the others get each configured scope")
    func appliedScopes() {
        let settings = RateLimitSettings(
            perSubscriber: RateLimit(limit: 100, period: "1d"), perChannel: [.sms: RateLimit(limit: 5, period: "1m")],
            perTenant: RateLimit(limit: 1000, period: "1m"))
        var low = EventType(key: "digest_me", priority: .low, channels: [.inApp, .sms])
        low.rateLimit = Self.tenPerHour
        let applied = settings.applied(to: low)
        #expect(applied.map(\.scope) == [.subscriberEventType, .subscriber, .channel, .tenant])
        #expect(
            applied[2].bucketKey(tenantID: "t", subscriberRowID: 7, eventType: "digest_me", channel: .inApp) == nil,
            "the SMS limit does not cover in-app")
        #expect(applied[0].bucketKey(tenantID: "t", subscriberRowID: 7, eventType: "digest_me", channel: .sms) == "se:7:digest_me:sms")
        let critical = EventType(key: "fire", priority: .critical, channels: [.inApp, .sms])
        #expect(settings.applied(to: critical).isEmpty)
    }
}
