import Foundation

/// Where a live inbox connection has got to: the delivery time and id of the newest item it was sent.
///
/// Items are ordered by when they reached the inbox, not by id: a critical message created after a
/// queued low-priority one reaches the inbox first, and a reconnecting client must still be sent the
/// low one. The position is the Server-Sent Events `id`, so `Last-Event-ID` resumes exactly.
public struct InboxPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millis: Int64
    public var rowID: Int64

    public static let start = InboxPosition(millis: 0, rowID: 0)

    public init(millis: Int64, rowID: Int64) {
        self.millis = millis
        self.rowID = rowID
    }

    /// The position just after an item.
    public init?(item: InboxItem) {
        guard let rowID = Message.rowID(item.id) else { return nil }
        self.init(millis: Timestamp.millis(item.createdAt), rowID: rowID)
    }

    /// Parses `1763712000123-42`, the form ``description`` writes.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let millis = Int64(parts[0]), let rowID = Int64(parts[1]), millis >= 0, rowID >= 0 else { return nil }
        self.init(millis: millis, rowID: rowID)
    }

    public var description: String { "\(millis)-\(rowID)" }

    public static func < (lhs: InboxPosition, rhs: InboxPosition) -> Bool {
        (lhs.millis, lhs.rowID) < (rhs.millis, rhs.rowID)
    }
}
