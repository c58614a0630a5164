import Crypto
import Foundation

/// When two events of a type are "the same" for a recipient: within `window` of the first, with equal
/// values in `fields` (default: the whole payload). The later one's messages are suppressed with reason
/// `duplicate`, pointing at the first one's message on the same channel.
public struct DedupSpec: Sendable, Codable, Hashable {
    /// `30s`, `10m`, `1h`, `1d`: measured from the original message, not from the last duplicate.
    public var window: String
    /// Payload fields compared; nil compares the whole payload.
    public var fields: [String]?

    public init(window: String, fields: [String]? = nil) {
        self.window = window
        self.fields = fields
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case window, fields }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        window = try container.decode(String.self, forKey: .window)
        fields = try container.decodeIfPresent([String].self, forKey: .fields)
    }

    public static let maximumWindow = 30.0 * 86_400

    public var windowSeconds: Double? { DurationText.seconds(window) }

    public func problems(prefix: String = "dedup") -> [FieldError] {
        var problems: [FieldError] = []
        if let seconds = windowSeconds {
            if seconds < 1 || seconds > Self.maximumWindow { problems.append(FieldError("\(prefix).window", "must be between 1s and 30d")) }
        } else {
            problems.append(FieldError("\(prefix).window", "'\(window)' is not a duration like 10m or 1h"))
        }
        if let fields {
            if fields.isEmpty { problems.append(FieldError("\(prefix).fields", "must name at least one payload field, or be left out")) }
            for (index, field) in fields.enumerated() where field.isEmpty {
                problems.append(FieldError("\(prefix).fields[\(index)]", "must not be empty"))
            }
        }
        return problems
    }

    /// What makes two events the same: a SHA-256 over the compared fields in a fixed order, so the
    /// order of keys in a request does not matter. A missing field compares as null.
    public func fingerprint(payload: [String: JSONValue]) -> String {
        let compared: [String: JSONValue]
        if let fields {
            compared = Dictionary(uniqueKeysWithValues: fields.map { ($0, payload[$0] ?? .null) })
        } else {
            compared = payload
        }
        return SHA256.hash(data: Data(JSONValue.object(compared).jsonText().utf8)).hexString
    }
}
