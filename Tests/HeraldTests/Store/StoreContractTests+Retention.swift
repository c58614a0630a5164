import Foundation
import Herald
import Testing

/// Retention: what `deleteExpired` removes, and what it leaves.
extension StoreContractTests {
    @Test(
        "deleteExpired removes expired messages, then their events, and idempotency keys older than the cutoff, within its limit; the rest stays",
        arguments: StoreBackend.available)
    func retention(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let tenantID = fixture.tenantID
        let type = Self.inAppType("notice")
        let day = 86_400.0

        // Two events expiring after a day (one already delivered, one still queued: state does not matter), one after thirty.
        let expiringDelivered = fixture.prepared(type, to: [.subscriber("s0")], expiresAt: Self.at(day))
        try await fixture.accept(expiringDelivered, idempotency: IdempotencyClaim(key: "event:old", requestHash: "h-old"), at: Self.base)
        let expiringQueued = fixture.prepared(type, to: [.subscriber("s0"), .subscriber("s1")], expiresAt: Self.at(day))
        try await fixture.accept(expiringQueued, at: Self.at(1))
        let kept = fixture.prepared(type, to: [.subscriber("s2")], expiresAt: Self.at(30 * day))
        try await fixture.accept(kept, idempotency: IdempotencyClaim(key: "event:new", requestHash: "h-new"), at: Self.at(2 * day))
        let claimed = try await store.claimMessages(owner: "A", scope: .all, limit: 1, now: Self.at(10), leaseUntil: Self.at(70)).messages
        try #require(claimed.map(\.eventID) == [expiringDelivered.eventID])
        #expect(
            try await store.complete(
                [StoreContractFixture.outcome(claimed[0], .delivered, at: Self.at(11), inbox: InboxContent(title: "t", body: "b", actionURL: nil))],
                owner: "A", now: Self.at(11)) == [claimed[0].rowID])

        // Nothing has expired yet.
        #expect(
            try await store.deleteExpired(now: Self.at(day - 1), idempotencyCutoff: Self.at(-1), limit: 100)
                == CleanupResult(messages: 0, events: 0, idempotencyKeys: 0))

        // Two days on, with a limit of two rows of each kind: two of the three expired messages go first.
        let now = Self.at(2 * day + 10)
        let firstPass = try await store.deleteExpired(now: now, idempotencyCutoff: Self.at(day), limit: 2)
        #expect(firstPass.messages == 2)
        #expect(firstPass.idempotencyKeys == 1, "the key of the first day; the second day's stays")
        let secondPass = try await store.deleteExpired(now: now, idempotencyCutoff: Self.at(day), limit: 2)
        #expect(secondPass.messages == 1)
        #expect(secondPass.idempotencyKeys == 0)
        #expect(firstPass.events + secondPass.events == 2, "each expired event goes once its messages are gone")
        #expect(
            try await store.deleteExpired(now: now, idempotencyCutoff: Self.at(day), limit: 2)
                == CleanupResult(messages: 0, events: 0, idempotencyKeys: 0))

        #expect(try await store.event(tenantID: tenantID, id: expiringDelivered.eventID) == nil)
        #expect(try await store.event(tenantID: tenantID, id: expiringQueued.eventID) == nil)
        #expect(try await store.event(tenantID: tenantID, id: kept.eventID)?.id == kept.eventID)
        #expect(try await store.events(tenantID: tenantID, type: nil, cursor: nil, limit: 10).items.map(\.id) == [kept.eventID])
        #expect(try await fixture.allMessages().map(\.eventId) == [kept.eventID])
        #expect(try await store.inbox(tenantID: tenantID, subscriberID: "s0", filter: .all, cursor: nil, limit: 10).items.isEmpty)
        #expect(try await store.message(tenantID: tenantID, id: claimed[0].rowID) == nil)
        // Nothing deleted is claimed: only the kept event's message is left to send.
        let left = try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: now, leaseUntil: now.addingTimeInterval(60)).messages
        #expect(left.map(\.eventID) == [kept.eventID])

        // The removed key is free again; the kept one still guards its request.
        let reuse = fixture.prepared(type, to: [.subscriber("s3")])
        let reused = try await store.accept(
            tenantID: tenantID, triggers: [reuse], idempotency: IdempotencyClaim(key: "event:old", requestHash: "h-other"), now: now)
        guard case .accepted = reused else {
            Issue.record("a removed key is accepted anew: \(reused)")
            return
        }
        let guarded = await #expect(throws: HeraldError.self) {
            _ = try await store.accept(
                tenantID: tenantID, triggers: [fixture.prepared(type, to: [.subscriber("s3")])],
                idempotency: IdempotencyClaim(key: "event:new", requestHash: "h-other"), now: now)
        }
        #expect(guarded?.isConflict == true)
    }
}
