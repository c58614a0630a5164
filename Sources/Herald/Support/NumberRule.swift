import Foundation

/// The range a number must fall in where it enters Herald: a request body, a settings document read back
/// from the database, `herald.yml` or a `HERALD_*` variable. Every number a tenant or an operator controls
/// is checked against its field's rule once, at the edge, so later conversions (`Duration`, `TimeAmount`,
/// `Int`) never see NaN, infinity, 1e300 or a fraction where a count belongs.
///
/// Declare the rule once beside the field and use it for decoding and for `problems()`:
///
/// ```swift
/// static let timeoutRule = NumberRule.seconds(0.1...600)
/// timeout = try container.decodeIfPresent(Double.self, forKey: .timeout, within: Self.timeoutRule) ?? 30
/// if let reason = Self.timeoutRule.problem(timeout) { problems.append(FieldError("timeout_seconds", reason)) }
/// ```
public struct NumberRule: Sendable, Hashable, CustomStringConvertible {
    /// The smallest and largest value allowed; both finite.
    public let range: ClosedRange<Double>
    /// Whether only whole numbers are allowed (counts, ports, ids).
    public let isWhole: Bool
    /// What the number counts, for messages: `seconds`, `bytes`, nil for a plain number.
    public let unit: String?

    public init(range: ClosedRange<Double>, isWhole: Bool, unit: String? = nil) {
        precondition(range.lowerBound.isFinite && range.upperBound.isFinite, "a rule's bounds are finite")
        self.range = range
        self.isWhole = isWhole
        self.unit = unit
    }

    /// A duration in seconds (fractions allowed) within `range`. Its largest value must fit
    /// ``Seconds/ceiling`` so the duration converts to nanoseconds without overflow.
    public static func seconds(_ range: ClosedRange<Double>) -> NumberRule {
        precondition(range.lowerBound >= 0 && range.upperBound <= Seconds.ceiling, "a duration rule fits Seconds")
        return NumberRule(range: range, isWhole: false, unit: "seconds")
    }

    /// A whole number (a count, a port, a size) within `range`.
    public static func whole(_ range: ClosedRange<Int>, unit: String? = nil) -> NumberRule {
        precondition(range.lowerBound >= -maximumWhole && range.upperBound <= maximumWhole, "a whole rule stays where Doubles are exact")
        return NumberRule(range: Double(range.lowerBound)...Double(range.upperBound), isWhole: true, unit: unit)
    }

    /// A number with a fraction (a rate) within `range`.
    public static func fraction(_ range: ClosedRange<Double>, unit: String? = nil) -> NumberRule {
        NumberRule(range: range, isWhole: false, unit: unit)
    }

    /// 2^53: past it, not every whole number has a Double of its own.
    public static let maximumWhole = 9_007_199_254_740_992

    /// `a whole number from 1 to 64`, `a number of seconds from 0.1 to 600`.
    public var description: String {
        let kind = isWhole ? "a whole number" : "a number"
        let unit = unit.map { isWhole ? " (\($0))" : " of \($0)" } ?? ""
        return "\(kind)\(unit) from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
    }

    /// Why `value` breaks the rule (`must be a whole number from 1 to 64`), or nil when it fits.
    public func problem(_ value: Double) -> String? {
        guard value.isFinite, range.contains(value), !isWhole || value.rounded(.towardZero) == value else { return "must be \(description)" }
        return nil
    }

    public func problem(_ value: Int) -> String? {
        // Every Int converts to a Double (perhaps rounded); rounding cannot move a value across a bound
        // that is itself exactly representable, and the bounds come from Ints or literals.
        problem(Double(value))
    }

    /// The number `text` holds, if it is one and fits: what an environment variable or a YAML scalar gives.
    /// Whole-number rules take only decimal integers (`12`, not `1.2e1` or `0x0c`).
    public func parse(_ text: String) -> Result<Double, NumberProblem> {
        guard let value = read(text) else { return .failure(NumberProblem(reason: notANumber)) }
        if let reason = problem(value) { return .failure(NumberProblem(reason: reason)) }
        return .success(value)
    }

    /// The number `text` holds, in range or not (the range is checked by ``problem(_:)``), or nil when it is
    /// no number this rule could take: for a whole rule a decimal integer within ±2^53 (where a Double
    /// holds every one, so it converts back to the same Int), otherwise a finite decimal (never `nan`,
    /// `inf` or hex).
    public func read(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if isWhole {
            guard let whole = Int(trimmed), abs(whole) <= Self.maximumWhole else { return nil }
            return Double(whole)
        }
        guard trimmed.unicodeScalars.allSatisfy({ "0123456789.+-eE".unicodeScalars.contains($0) }), let value = Double(trimmed), value.isFinite
        else { return nil }
        return value
    }

    /// `is not a number of seconds from 0.1 to 600`: for text that holds no number the rule could take.
    public var notANumber: String { "is not \(description)" }

    /// `value` as an Int when the rule is whole and it fits; the rule guarantees it is in Int's range.
    public func wholeValue(_ value: Double) -> Int? {
        guard isWhole, problem(value) == nil else { return nil }
        return Int(exactly: value)
    }

    /// `64`, `0.1`, `1e+300`: a number as people write it, whole numbers without a fraction. Total:
    /// any Double, NaN and infinity included.
    public static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) <= Double(maximumWhole) ? String(Int64(value)) : String(value)
    }
}

/// Why a number does not fit its rule, in words for a problem or a configuration error.
public struct NumberProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
