import Foundation
import Synchronization

/// The one JSON configuration Herald uses for storage and the API: sorted keys, ISO dates.
public enum JSONCoding {
    /// One encoder and one decoder for the process: both are safe to share, and making them per call
    /// showed in profiles of bulk triggers.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }()

    /// Reads what Herald stored itself (settings documents, event plans): a field a later version dropped
    /// is skipped, so stored data always loads.
    public static let decoder = makeDecoder(refusingUnknownKeys: false)

    /// Reads what a user sends (request bodies): an unknown field is refused by name
    /// (``Swift/Decoder/refuseUnknownKeys(_:also:)``).
    public static let requestDecoder = makeDecoder(refusingUnknownKeys: true)

    private static func makeDecoder(refusingUnknownKeys: Bool) -> JSONDecoder {
        let decoder = JSONDecoder()
        if refusingUnknownKeys { decoder.userInfo[.refusesUnknownKeys] = true }
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an RFC 3339 timestamp")
            }
            return date
        }
        return decoder
    }

    public static func encode<T: Encodable>(_ value: T) -> Data {
        // Encoding our own Codable values cannot fail; a failure is a programming error.
        do { return try encoder.encode(value) } catch { preconditionFailure("JSON encoding failed: \(error)") }
    }

    /// The JSON text of a value. Payloads (`JSONValue`) take the direct writer, and an event's plan
    /// (the same few fields for every event of a type) is remembered: both are written once per stored
    /// event, and `JSONEncoder` was a quarter of the time of a bulk trigger.
    public static func encodeText<T: Encodable>(_ value: T) -> String {
        if let payload = value as? [String: JSONValue] { return JSONValue.object(payload).jsonText() }
        if let json = value as? JSONValue { return json.jsonText() }
        if let plan = value as? EventType, plan.templates.isEmpty { return planTexts.text(for: plan) }
        return String(decoding: encode(value), as: UTF8.self)
    }

    static let planTexts = PlanTextCache()
}

/// Event plans already written as JSON, by value. Bounded: cleared when it holds too many.
final class PlanTextCache: Sendable {
    private let texts = Mutex<[EventType: String]>([:])

    func text(for plan: EventType) -> String {
        if let text = texts.withLock({ $0[plan] }) { return text }
        let text = String(decoding: JSONCoding.encode(plan), as: UTF8.self)
        texts.withLock { texts in
            if texts.count >= 512 { texts.removeAll(keepingCapacity: true) }
            texts[plan] = text
        }
        return text
    }
}

/// RFC 3339 timestamps in UTC, with milliseconds.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon))
            + "Z"
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? fractional.parse(text) { return date }
        return nil
    }

    /// Milliseconds since 1970, the unit every stored time uses.
    public static func millis(_ date: Date) -> Int64 {
        // Total for any Date, even one built from NaN or 1e300: clamped to ±9e15 ms (±285,000 years).
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        return millis.isNaN ? 0 : Int64(min(max(millis, -9e15), 9e15))
    }

    public static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
