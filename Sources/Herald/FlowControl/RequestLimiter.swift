import Foundation
import Synchronization

/// API request limits per tenant key and per subscriber token, separate from the notification rate
/// limits: a token bucket per caller, kept in memory on each node (a limit is a fairness guard, not
/// an accounting, so nodes do not need to agree on it to the request).
public final class RequestLimiter: Sendable {
    public let limits: RequestLimits
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init(limits: RequestLimits) {
        self.limits = limits
    }

    /// Nil when the caller may go ahead; otherwise the seconds until it may.
    public func check(tenantID: String, now: Date = Date()) -> Double? {
        check(key: "t\u{0}" + tenantID, perSecond: limits.tenantPerSecond, burst: limits.tenantBurst, now: now)
    }

    public func check(tenantID: String, subscriberID: String, now: Date = Date()) -> Double? {
        check(key: "s\u{0}" + tenantID + "\u{0}" + subscriberID, perSecond: limits.subscriberPerSecond, burst: limits.subscriberBurst, now: now)
    }

    private func check(key: String, perSecond: Double, burst: Int, now: Date) -> Double? {
        guard perSecond > 0 else { return nil }
        return buckets.withLock { buckets in
            // Forget callers whose buckets have long been full again, so memory stays bounded.
            if buckets.count > 100_000 {
                buckets = buckets.filter { now.timeIntervalSince($0.value.updatedAt) < $0.value.periodSeconds }
            }
            let capacity = max(1, burst)
            var bucket = buckets[key] ?? TokenBucket(capacity: capacity, periodSeconds: Double(capacity) / perSecond, now: now)
            defer { buckets[key] = bucket }
            if bucket.take(now: now) { return nil }
            return max(0.001, bucket.nextToken(now: now).timeIntervalSince(now))
        }
    }
}

/// Requests per second and bursts allowed per API key (tenant) and per subscriber token; 0 turns a limit off.
///
/// The defaults stop a runaway client without getting in the way of a real app: a tenant key may send
/// 10,000 requests a second (bursts of 20,000), more than one node serves; a subscriber's browser 20 a
/// second (bursts of 100).
public struct RequestLimits: Sendable, Hashable {
    public var tenantPerSecond = 10_000.0
    public var tenantBurst = 20_000
    public var subscriberPerSecond = 20.0
    public var subscriberBurst = 100

    public init() {}
}
