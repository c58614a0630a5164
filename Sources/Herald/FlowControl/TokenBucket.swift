import Foundation

/// A token bucket: `capacity` tokens, refilled continuously at `capacity / periodSeconds` per second.
/// A plain value; the store keeps one per limited key and updates it in the transaction that plans
/// the message, so two nodes cannot both spend the last token.
///
/// A message that finds no token can wait for one: ``reserve(now:)`` takes a token that is not there yet
/// (the bucket goes negative) and answers when it will have been earned, so a burst over the limit is
/// spread out at exactly the allowed rate rather than all released at once.
public struct TokenBucket: Sendable, Hashable, Codable {
    public var capacity: Double
    public var periodSeconds: Double
    public var tokens: Double
    public var updatedAt: Date

    public init(capacity: Int, periodSeconds: Double, now: Date) {
        self.capacity = Double(max(1, capacity))
        self.periodSeconds = max(0.001, periodSeconds)
        self.tokens = self.capacity
        self.updatedAt = now
    }

    var refillPerSecond: Double { capacity / periodSeconds }

    mutating func refill(now: Date) {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        tokens = min(capacity, tokens + elapsed * refillPerSecond)
        updatedAt = max(updatedAt, now)
    }

    /// Takes a token if one is there now.
    public mutating func take(now: Date) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// When a token would be free, without taking it.
    public func nextToken(now: Date) -> Date {
        var copy = self
        copy.refill(now: now)
        if copy.tokens >= 1 { return now }
        return now.addingTimeInterval((1 - copy.tokens) / refillPerSecond)
    }

    /// Takes a token now, or the next one to be earned; answers when the caller may use it.
    public mutating func reserve(now: Date) -> Date {
        refill(now: now)
        tokens -= 1
        if tokens >= 0 { return now }
        return now.addingTimeInterval(-tokens / refillPerSecond)
    }
}
