/// A field that failed validation, and why, in words an API user can act on.
public struct FieldError: Sendable, Codable, Hashable, CustomStringConvertible {
    /// A JSON path into the request (`payload.amount`, `recipients[2].email`, `events[4].type`).
    public var field: String
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// Errors the engine reports to its callers. The HTTP layer turns each into RFC 9457 problem+json.
public enum HeraldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request is well-formed JSON but breaks a rule; nothing was written.
    case invalid([FieldError])
    /// No such resource in this tenant (other tenants' resources are reported the same way).
    case notFound(String)
    /// The request conflicts with what is stored (an idempotency key reused with another body, say).
    case conflict(String)
    case unauthorized(String)
    case forbidden(String)
    /// Too many requests from one API key or subscriber token; try again after `retryAfter` seconds.
    case tooManyRequests(String, retryAfter: Double)

    public static func invalid(_ field: String, _ reason: String) -> HeraldError { .invalid([FieldError(field, reason)]) }

    public var description: String {
        switch self {
        case .invalid(let errors): errors.map(\.description).joined(separator: "; ")
        case .notFound(let what): "\(what) not found"
        case .conflict(let detail), .unauthorized(let detail), .forbidden(let detail), .tooManyRequests(let detail, _): detail
        }
    }
}

extension Array where Element == FieldError {
    /// Prefixes every field with `prefix` (`events[3].` for one trigger of a bulk request).
    public func prefixed(_ prefix: String) -> [FieldError] {
        map { FieldError($0.field.isEmpty ? prefix : prefix + "." + $0.field, $0.reason) }
    }
}
