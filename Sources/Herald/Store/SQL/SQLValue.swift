import Foundation

/// A value bound to, or read from, a statement both stores run: the four storage classes the schema
/// uses. Dates are stored as milliseconds since 1970, as everywhere in the schema.
public enum SQLValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    init(_ value: Int) { self = .integer(Int64(value)) }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    init(_ value: Double) { self = .real(value) }
    init(_ date: Date?) { self = date.map { .integer(Timestamp.millis($0)) } ?? .null }

    var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(exactly: value.rounded())
        default: nil
        }
    }

    var real: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The type a placeholder for this value is cast to, where the dialect casts (none for NULL).
    var type: SQLType? {
        switch self {
        case .null: nil
        case .integer: .integer
        case .real: .real
        case .text: .text
        }
    }

    var date: Date? { integer.map(Timestamp.date(millis:)) }
}

/// The type of a bound column, for the dialects that cast placeholders.
enum SQLType: Sendable {
    case integer
    case real
    case text
}

/// A statement both stores run, with its values bound in order.
public struct SQLStatement: Sendable {
    public var sql: String
    public var values: [SQLValue]

    public init(sql: String, values: [SQLValue]) {
        self.sql = sql
        self.values = values
    }
}
