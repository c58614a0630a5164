import Foundation

/// When to try a transiently failed message again: exponential backoff with jitter, capped, up to a
/// limit of attempts after which the message is dead-lettered.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var base: Double
    public var cap: Double

    public init(maxAttempts: Int, base: Double, cap: Double) {
        self.maxAttempts = maxAttempts
        self.base = base
        self.cap = cap
    }

    /// The delay before attempt `attempt + 1`, or nil when `attempt` was the last one allowed.
    ///
    /// Jitter keeps the delay between half and all of the exponential step, so a provider outage does not
    /// bring every message back at the same instant.
    public func delay(after attempt: Int, random: Double = Double.random(in: 0...1)) -> Double? {
        guard attempt < maxAttempts else { return nil }
        let step = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return step * (0.5 + 0.5 * random)
    }
}
