import Foundation

/// Decides what flow control makes of a batch of planned messages: dedup, then the digest, then the rate
/// limits, for each queued message of an event with flow control, in batch order. Pure: the store reads
/// the state the batch touches (``needs(_:)``), hands it in with the time, and writes what comes back in
/// the same transaction, so two batches planned at once can never both be "the first" of a dedup window,
/// both open a digest or both take a bucket's last token.
enum FlowPlanner {
    /// The dedup keys, digests and buckets `events` can touch.
    static func needs(_ events: [PlanningEvent]) -> FlowState.Needs {
        var needs = FlowState.Needs()
        var dedup: Set<DedupSlot> = []
        var digests: Set<DigestSlot> = []
        var buckets: Set<String> = []
        for event in events where event.hasFlowControl {
            for message in event.messages where message.status == .queued {
                if let slot = dedupSlot(event, message), dedup.insert(slot).inserted { needs.dedup.append(slot) }
                if let slot = digestSlot(event, message), digests.insert(slot).inserted { needs.digests.append(slot) }
                for bucket in event.buckets(covering: message) where buckets.insert(bucket.key).inserted { needs.buckets.append(bucket.key) }
            }
        }
        return needs
    }

    /// The rows to write for `events`, given the flow state as stored and the time of planning.
    static func decide(_ events: [PlanningEvent], state: FlowState, now: Date) -> MessageWrites {
        var state = state
        var writes = MessageWrites()
        var spent: Set<String> = []
        for (index, event) in events.enumerated() {
            for message in event.messages {
                let position = writes.messages.count
                var decision = FlowDecision(message: message, dueAt: event.dueAt)
                if message.status == .queued, event.hasFlowControl {
                    decideFlow(&decision, message, of: event, at: position, state: &state, writes: &writes, spent: &spent, now: now)
                    if decision.status != .suppressed, let slot = dedupSlot(event, message), let window = event.plan.dedup?.windowSeconds {
                        state.dedup[slot] = .planned(position)
                        writes.dedupKeys.append(DedupKeyRow(slot: slot, message: position, expiresAt: now.addingTimeInterval(window)))
                    }
                }
                var row = MessageRow(
                    event: index, subscriberRowID: message.subscriberRowID, channel: message.channel, status: decision.status,
                    reason: decision.reason,
                    availableAt: decision.status == .queued || decision.status == .merged ? decision.availableAt : now,
                    digest: decision.digest, related: decision.related)
                // An in-app message that flow control left due now, outside any digest, is delivered as it is written.
                if let content = message.inbox, row.status == .queued, row.reason == nil, row.digest == nil, row.availableAt <= now {
                    row.status = .delivered
                    row.availableAt = now
                    row.inbox = content
                }
                writes.messages.append(row)
            }
        }
        writes.buckets = spent.sorted().compactMap { key in state.buckets[key].map { (key, $0) } }
        return writes
    }

    /// Dedup, then the digest, then the rate limits, for one queued message at `position` in the batch.
    private static func decideFlow(
        _ decision: inout FlowDecision, _ message: PlannedMessage, of event: PlanningEvent, at position: Int, state: inout FlowState,
        writes: inout MessageWrites, spent: inout Set<String>, now: Date
    ) {
        if let slot = dedupSlot(event, message), let original = state.dedup[slot] {
            decision.suppress(.duplicate, relatedTo: original)
            return
        }
        let digest = digestSlot(event, message)
        if let digest, let open = state.digests[digest] {
            decision.merge(into: open.digest, message: open.message, flushAt: open.flushAt)
            return
        }
        if let flushAt = message.digestFlushAt { decision.availableAt = flushAt }
        let covering = event.buckets(covering: message)
        if !covering.isEmpty {
            var buckets = covering.map { entry in
                RateLimitGate.bucket(
                    for: entry.limit, tokens: state.buckets[entry.key]?.tokens, updatedAt: state.buckets[entry.key]?.updatedAt, now: now)
            }
            switch RateLimitGate.decide(&buckets, action: event.plan.onLimit ?? .defer, at: decision.availableAt) {
            case .pass: break
            case .deferred(let until): decision.deferForRateLimit(until: until)
            case .suppressed:
                decision.suppress(.rateLimited, relatedTo: nil)
                return
            }
            for (entry, bucket) in zip(covering, buckets) {
                state.buckets[entry.key] = StoredBucket(tokens: bucket.tokens, updatedAt: bucket.updatedAt)
                spent.insert(entry.key)
            }
        }
        if decision.status == .queued, let digest {
            let index = writes.digests.count
            writes.digests.append(NewDigest(tenantID: event.tenantID, slot: digest, message: position, flushAt: decision.availableAt))
            state.digests[digest] = OpenDigest(digest: .planned(index), message: .planned(position), flushAt: decision.availableAt)
            decision.startDigest(.planned(index))
        }
    }

    static func dedupSlot(_ event: PlanningEvent, _ message: PlannedMessage) -> DedupSlot? {
        event.fingerprint.map {
            DedupSlot(subscriberRowID: message.subscriberRowID, eventType: event.plan.key, channel: message.channel, fingerprint: $0)
        }
    }

    static func digestSlot(_ event: PlanningEvent, _ message: PlannedMessage) -> DigestSlot? {
        message.digestKey.map { DigestSlot(subscriberRowID: message.subscriberRowID, eventType: event.plan.key, channel: message.channel, key: $0) }
    }
}
