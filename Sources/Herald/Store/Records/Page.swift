/// One page of a list and the cursor for the next, if there is one.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey {
        case items = "data"
        case nextCursor = "next_cursor"
    }
}

/// Opaque cursors over row numbers: callers pass back what they were given.
public enum Cursor {
    public static func encode(_ rowID: Int64) -> String { "c" + String(rowID, radix: 36) }

    public static func decode(_ cursor: String?) throws -> Int64? {
        guard let cursor, !cursor.isEmpty else { return nil }
        guard cursor.hasPrefix("c"), let value = Int64(cursor.dropFirst(), radix: 36) else {
            throw HeraldError.invalid("cursor", "is not a cursor this API returned")
        }
        return value
    }
}
