import Foundation

/// Decides one message against every limit that covers it, on buckets the store loaded in the planning
/// transaction and writes back after. A plain function of its inputs, tested without a database.
public enum RateLimitGate {
    public enum Decision: Sendable, Hashable {
        /// Within every limit: goes when it is due.
        case pass
        /// Over a limit: queued until each bucket has earned its token.
        case deferred(until: Date)
        /// Over a limit, and the event type says drop it: reason `rate_limited`.
        case suppressed
    }

    /// A bucket as stored (`tokens` at `updatedAt`), refilled under the limit as configured now, so a
    /// lowered limit takes effect at once.
    public static func bucket(for limit: RateLimit, tokens: Double?, updatedAt: Date?, now: Date) -> TokenBucket {
        var bucket = TokenBucket(capacity: limit.limit, periodSeconds: limit.periodSeconds ?? 3600, now: updatedAt ?? now)
        if let tokens { bucket.tokens = min(bucket.capacity, tokens) }
        return bucket
    }

    /// Spends from `buckets` for a message due at `at`. Suppression takes nothing unless every bucket has
    /// a token; deferral reserves a token in each and waits for the last of them.
    public static func decide(_ buckets: inout [TokenBucket], action: LimitAction, at: Date) -> Decision {
        guard !buckets.isEmpty else { return .pass }
        switch action {
        case .suppress:
            guard buckets.allSatisfy({ $0.nextToken(now: at) <= at }) else { return .suppressed }
            for index in buckets.indices { _ = buckets[index].take(now: at) }
            return .pass
        case .defer:
            var latest = at
            for index in buckets.indices { latest = max(latest, buckets[index].reserve(now: at)) }
            return latest > at ? .deferred(until: latest) : .pass
        }
    }
}
