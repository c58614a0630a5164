import Foundation
import Synchronization

/// The files of the events being sent, kept for a while so a fan-out to 10,000 recipients reads its
/// event's files once rather than once per email, and bounded by bytes: the least recently used event's
/// files go first, and an event whose files alone exceed the bound is read for each batch and not kept.
final class AttachmentCache: Sendable {
    /// Bytes of files kept at most.
    static let capacity = 64 << 20
    /// Events kept at most, whatever their size.
    static let maxEvents = 1000

    private struct Entry {
        var files: [EmailAttachment]
        var bytes: Int
        var used: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let store: any IntakeStore
    private let capacity: Int
    private let state = Mutex(State())

    init(store: any IntakeStore, capacity: Int = AttachmentCache.capacity) {
        self.store = store
        self.capacity = capacity
    }

    /// Bytes of files per event, for the events among `eventIDs` that have any (one read, no bytes).
    func sizes(eventIDs: [String]) async throws -> [String: Int] {
        try await store.attachmentSizes(eventIDs: eventIDs)
    }

    /// An event's files, from the cache or the store.
    func files(eventID: String) async throws -> [EmailAttachment] {
        let cached: [EmailAttachment]? = state.withLock { state in
            guard var entry = state.entries[eventID] else { return nil }
            state.clock &+= 1
            entry.used = state.clock
            state.entries[eventID] = entry
            return entry.files
        }
        if let cached { return cached }
        let files = try await store.eventAttachments(eventID: eventID)
        remember(files, for: eventID)
        return files
    }

    private func remember(_ files: [EmailAttachment], for eventID: String) {
        let bytes = files.reduce(0) { $0 + $1.content.count }
        guard bytes <= capacity else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: eventID) { state.bytes -= old.bytes }
            while !state.entries.isEmpty, state.bytes + bytes > capacity || state.entries.count >= Self.maxEvents {
                guard let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) else { break }
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.bytes
            }
            state.clock &+= 1
            state.entries[eventID] = Entry(files: files, bytes: bytes, used: state.clock)
            state.bytes += bytes
        }
    }
}
