/// Where a dedup key lives: one subscriber's messages of one type on one channel with one fingerprint.
struct DedupSlot: Hashable, Sendable {
    var subscriberRowID: Int64
    var eventType: String
    var channel: ChannelKind
    var fingerprint: String
}

/// Where an open digest lives: one subscriber's messages of one type on one channel under one digest key.
struct DigestSlot: Hashable, Sendable {
    var subscriberRowID: Int64
    var eventType: String
    var channel: ChannelKind
    var key: String
}
