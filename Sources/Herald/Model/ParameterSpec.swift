import Foundation

/// A parameter an event type declares: what a trigger's payload must (or may) carry.
public struct ParameterSpec: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case string, number, integer, boolean, datetime, url, object, array, any
    }

    public var type: Kind
    public var required: Bool
    public var description: String?

    public init(type: Kind = .any, required: Bool = true, description: String? = nil) {
        self.type = type
        self.required = required
        self.description = description
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case type, required, description }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.type = try container.decodeIfPresent(Kind.self, forKey: .type) ?? .any
        self.required = try container.decodeIfPresent(Bool.self, forKey: .required) ?? true
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
    }

    /// Why `value` does not fit this parameter, or nil when it does.
    public func problem(with value: JSONValue) -> String? {
        switch (type, value) {
        case (.any, _): return nil
        case (_, .null): return required ? "must not be null" : nil
        case (.string, .string), (.number, .number), (.boolean, .bool), (.object, .object), (.array, .array): return nil
        case (.integer, .number(let number)): return number.rounded() == number ? nil : "must be an integer"
        case (.datetime, .string(let text)):
            return Timestamp.parse(text) == nil ? "must be an RFC 3339 date-time such as 2026-05-01T09:30:00Z" : nil
        case (.url, .string(let text)):
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil
            else { return "must be an absolute http or https URL" }
            return nil
        default:
            return "must be \(type == .integer ? "an" : "a") \(type.rawValue)"
        }
    }
}
