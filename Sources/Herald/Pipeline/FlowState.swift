import Foundation

/// The flow-control state a batch of events touches, as the store read it in the planning transaction:
/// live dedup keys, open digests and rate buckets. ``FlowPlanner`` reads and updates a copy as it plans,
/// so a later message of the same batch sees what an earlier one did.
struct FlowState: Sendable {
    /// Live dedup keys (their window not over) and the message each points at.
    var dedup: [DedupSlot: RowReference] = [:]
    var digests: [DigestSlot: OpenDigest] = [:]
    /// Rate buckets by key, as last written.
    var buckets: [String: StoredBucket] = [:]

    /// What a batch needs loaded: each list without repeats, in the order the batch first touches it.
    struct Needs: Equatable, Sendable {
        var dedup: [DedupSlot] = []
        var digests: [DigestSlot] = []
        var buckets: [String] = []

        var isEmpty: Bool { dedup.isEmpty && digests.isEmpty && buckets.isEmpty }
    }
}

/// A digest still collecting items.
struct OpenDigest: Hashable, Sendable {
    var digest: RowReference
    /// The digest's own message, which carries it when it closes.
    var message: RowReference?
    var flushAt: Date
}

/// A rate bucket as stored: `tokens` at `updatedAt`.
struct StoredBucket: Hashable, Sendable {
    var tokens: Double
    var updatedAt: Date
}

/// A row another row points at: one already stored (its id), or one this batch writes (its position in
/// the batch's ``MessageWrites``), whose id the store learns as it writes.
enum RowReference: Hashable, Sendable {
    case stored(Int64)
    case planned(Int)
}
