import Foundation

/// Commits concurrent trigger requests together: while one write transaction runs, the requests that
/// arrive queue up, and the next transaction takes them all (up to `maxBatch`). Each caller still
/// waits for its own request to be durable and gets its own answer.
///
/// A lone request is committed at once, so nothing waits on a timer; under load, a thousand single
/// triggers cost a few transactions instead of a thousand. Critical requests go first (``UrgentWrites``).
actor GroupCommitter {
    private let store: any Store
    private let maxBatch: Int
    private var pending: [(request: AcceptRequest, continuation: CheckedContinuation<AcceptOutcome, any Error>)] = []
    private var committing = false
    private let clock: HeraldClock

    init(store: any Store, maxBatch: Int = 256, clock: HeraldClock = .system) {
        self.store = store
        self.clock = clock
        self.maxBatch = maxBatch
    }

    func accept(_ request: AcceptRequest) async throws -> AcceptOutcome {
        // A critical trigger is announced from the moment it queues here, so a long write running now stops
        // early for it, even when a batch of other requests is waiting for the writer ahead of it.
        let urgent = request.isUrgent ? store.urgentWrites : nil
        urgent?.raise()
        defer { urgent?.lower() }
        return try await withCheckedThrowingContinuation { continuation in
            pending.append((request, continuation))
            if !committing {
                committing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            // Critical requests go in the next transaction, ahead of any others that queued before them.
            if pending.contains(where: { $0.request.isUrgent }) {
                pending = pending.filter { $0.request.isUrgent } + pending.filter { !$0.request.isUrgent }
            }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                let results = try await store.acceptMany(batch.map(\.request), now: clock.now())
                for (entry, result) in zip(batch, results) { entry.continuation.resume(with: result) }
            } catch {
                // The transaction itself failed (the database is unavailable): nothing was stored for anyone.
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        committing = false
    }
}
