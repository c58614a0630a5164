import Foundation

/// What planning a batch of events comes to: the message rows to insert and the flow-control state to
/// write with them, all in the transaction that read the state. Rows point at each other by
/// ``RowReference``: a duplicate at its original, a merged item at its digest and the digest's message.
struct MessageWrites: Sendable {
    var messages: [MessageRow] = []
    /// Digests this batch opens, each carried by one of its messages.
    var digests: [NewDigest] = []
    /// Dedup keys to set (or move to a newer message, once the old one's window is over).
    var dedupKeys: [DedupKeyRow] = []
    /// Buckets this batch spent from, as they stand after it.
    var buckets: [(key: String, bucket: StoredBucket)] = []

    /// Whether any in-app message is written as delivered, so the store must learn its id to announce it.
    var delivers: Bool { messages.contains { $0.inbox != nil } }

    /// Whether any row points at another row of this batch, so the store must know ids before it writes.
    var referencesWithin: Bool {
        !digests.isEmpty || !dedupKeys.isEmpty
            || messages.contains { row in
                if case .planned = row.digest { return true }
                if case .planned = row.related { return true }
                return false
            }
    }

    /// How many messages of each of the batch's `events` went in, by status, given which rows did.
    func counts(events: Int, inserted: (Int) -> Bool = { _ in true }) -> [[String: Int]] {
        var counts = [[String: Int]](repeating: [:], count: events)
        for (position, row) in messages.enumerated() where inserted(position) {
            counts[row.event][row.status.rawValue, default: 0] += 1
        }
        return counts
    }
}

/// One message as it is written.
struct MessageRow: Hashable, Sendable {
    /// The event's position in the batch.
    var event: Int
    var subscriberRowID: Int64
    var channel: ChannelKind
    var status: MessageStatus
    var reason: String?
    /// When a queued or merged message is due; when anything else was decided.
    var availableAt: Date
    var digest: RowReference?
    var related: RowReference?
    /// The content of an in-app message written as delivered (``InAppComposer``).
    var inbox: ComposedInApp?
}

/// A digest this batch opens.
struct NewDigest: Hashable, Sendable {
    var tenantID: String
    var slot: DigestSlot
    /// The position of its own message in ``MessageWrites/messages``.
    var message: Int
    var flushAt: Date
}

/// A dedup key pointing at a message of this batch until `expiresAt`.
struct DedupKeyRow: Hashable, Sendable {
    var slot: DedupSlot
    var message: Int
    var expiresAt: Date
}
