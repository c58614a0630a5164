import Foundation
import NIOCore

/// A span of time known to be finite and between zero and ``ceiling``, so every conversion
/// (`Duration`, NIO's `TimeAmount`, whole milliseconds) is total: `Int64(x * 1000)` on a configured
/// number traps on NaN, infinity or anything past 9.2e15, and a tenant's setting once stopped the process
/// that way.
///
/// Values are checked against their field's ``NumberRule`` where they enter; `Seconds(clamping:)` at the
/// point of use is the second line, so a value that skipped the check (set in code, or stored by an older
/// version) still cannot trap.
///
/// ```swift
/// let timeout = Seconds(clamping: server.timeoutSeconds).timeAmount
/// ```
public struct Seconds: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Ten years: far past any timeout, lease or interval, and small enough that its nanoseconds fit Int64.
    public static let ceiling = 10 * 365 * 86_400.0

    /// Between 0 and ``ceiling``, never NaN.
    public let value: Double

    /// `value` forced into 0...``ceiling``: NaN and negatives become 0, anything larger the ceiling.
    public init(clamping value: Double) {
        self.value = value.isNaN ? 0 : min(max(value, 0), Self.ceiling)
    }

    /// Nil unless `value` is already within 0...``ceiling``.
    public init?(exactly value: Double) {
        guard value.isFinite, (0...Self.ceiling).contains(value) else { return nil }
        self.value = value
    }

    public var duration: Duration { .nanoseconds(nanoseconds) }

    public var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }

    /// Whole milliseconds, rounded to the nearest.
    public var milliseconds: Int64 { Int64((value * 1000).rounded()) }

    /// Whole seconds, rounded up, for `Retry-After`.
    public var wholeSecondsRoundedUp: Int { Int(value.rounded(.up)) }

    /// Whole seconds, the fraction dropped.
    public var wholeSeconds: Int { Int(value.rounded(.towardZero)) }

    var nanoseconds: Int64 { Int64((value * 1_000_000_000).rounded()) }

    public var description: String { "\(value)s" }

    public static func < (lhs: Seconds, rhs: Seconds) -> Bool { lhs.value < rhs.value }
}
