import Foundation
import Herald
import Testing

/// The queue: claims and leases, and batch completion.
extension StoreContractTests {
    @Test(
        "messages are claimed once, most urgent first; a live lease (renewed or not) keeps them from others; after it runs out they are claimed again",
        arguments: StoreBackend.available)
    func claimsAndLeases(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        func accept(_ priority: Priority, at seconds: Double, sendAt: Date? = nil) async throws -> String {
            let trigger = fixture.prepared(Self.inAppType("type_\(priority.rawValue)", priority: priority), to: [.subscriber("s0")], sendAt: sendAt)
            try await fixture.accept(trigger, at: Self.at(seconds))
            return trigger.eventID
        }
        // Accepted least urgent first; the older low one is due before the newer, but after every more urgent one.
        let olderLow = try await accept(.low, at: -10)
        let low = try await accept(.low, at: 0)
        let medium = try await accept(.medium, at: 0)
        let high = try await accept(.high, at: 0)
        let critical = try await accept(.critical, at: 0)
        let later = try await accept(.high, at: 0, sendAt: Self.at(1000))

        // The critical lane takes critical messages only.
        let lane = try await store.claimMessages(owner: "A", scope: .criticalOnly, limit: 10, now: Self.base, leaseUntil: Self.at(60))
        #expect(lane.messages.map(\.eventID) == [critical])
        #expect(lane.messages.map(\.priority) == [.critical])
        #expect(Set(lane.events.keys) == [critical], "each claimed message's event comes with the batch")
        let firstTwo = try await store.claimMessages(owner: "A", scope: .all, limit: 2, now: Self.base, leaseUntil: Self.at(60))
        #expect(firstTwo.messages.map(\.eventID) == [high, medium])
        let rest = try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.base, leaseUntil: Self.at(60))
        #expect(rest.messages.map(\.eventID) == [olderLow, low], "the later one is not due yet")
        let held = lane.messages + firstTwo.messages + rest.messages
        #expect(held.allSatisfy { $0.attempt == 1 && $0.subscriber.id == "s0" && $0.tenantID == fixture.tenantID })
        for message in held {
            #expect(try await fixture.message(message.rowID).0.status == .sending)
        }

        // While A's leases hold, nobody else gets them.
        #expect(try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: Self.at(30), leaseUntil: Self.at(90)).messages.isEmpty)
        // A's heartbeat extends them; at the old expiry they are still A's.
        #expect(try await store.renewLeases(owner: "A", ids: held.map(\.rowID), until: Self.at(120)) == 5)
        #expect(try await store.renewLeases(owner: "B", ids: held.map(\.rowID), until: Self.at(500)) == 0, "only the holder renews")
        #expect(try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: Self.at(61), leaseUntil: Self.at(121)).messages.isEmpty)

        // Once the leases run out, B takes them over, most urgent first, as their second attempt.
        let takeover = try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: Self.at(121), leaseUntil: Self.at(5000))
        // (Renewed together, the two low ones now share a due time: their order between them is not pinned.)
        #expect(takeover.messages.map(\.priority) == [.critical, .high, .medium, .low, .low])
        #expect(takeover.messages.map(\.eventID).prefix(3) == [critical, high, medium])
        #expect(Set(takeover.messages.map(\.eventID).suffix(2)) == [olderLow, low])
        #expect(takeover.messages.map(\.rowID).sorted() == held.map(\.rowID).sorted())
        #expect(takeover.messages.allSatisfy { $0.attempt == 2 })
        #expect(try await store.renewLeases(owner: "A", ids: held.map(\.rowID), until: Self.at(6000)) == 0, "A lost them")

        // The held-back message comes due at its send time, and only it.
        #expect(try await store.claimMessages(owner: "C", scope: .all, limit: 10, now: Self.at(999), leaseUntil: Self.at(1060)).messages.isEmpty)
        let due = try await store.claimMessages(owner: "C", scope: .all, limit: 10, now: Self.at(1000), leaseUntil: Self.at(1060))
        #expect(due.messages.map(\.eventID) == [later])
        #expect(due.messages.map(\.attempt) == [1])
    }

    @Test(
        "completing a claimed batch records each outcome (delivered, sent, failed, retry) as read back; a completion by an owner who lost the lease changes nothing",
        arguments: StoreBackend.available)
    func batchCompletion(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let event = fixture.prepared(Self.inAppType("order_shipped"), to: ["s0", "s1", "s2", "s3"].map(Recipient.subscriber))
        try await fixture.accept(event, at: Self.base)
        let batch = try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(1), leaseUntil: Self.at(60)).messages
        try #require(batch.count == 4)
        let claimed = Dictionary(uniqueKeysWithValues: batch.map { ($0.subscriber.id, $0) })
        let delivered = try #require(claimed["s0"])
        let failed = try #require(claimed["s1"])
        let retried = try #require(claimed["s2"])
        let sent = try #require(claimed["s3"])
        let outcomes = [
            StoreContractFixture.outcome(
                delivered, .delivered, at: Self.at(10), detail: "stored",
                inbox: InboxContent(title: "Shipped", body: "On its way", actionURL: "https://example.com/o/1")),
            StoreContractFixture.outcome(failed, .failed, at: Self.at(10), reason: "bounced", detail: "550 no such user"),
            StoreContractFixture.outcome(retried, .queued, at: Self.at(10), detail: "421 try later", retryAt: Self.at(300)),
            StoreContractFixture.outcome(sent, .sent, at: Self.at(10), detail: "250 ok"),
        ]
        #expect(try await store.complete(outcomes, owner: "A", now: Self.at(10)) == [delivered.rowID, failed.rowID, retried.rowID, sent.rowID])

        let (deliveredMessage, deliveredAttempts) = try await fixture.message(delivered.rowID)
        #expect(deliveredMessage.status == .delivered)
        #expect(deliveredMessage.sentAt == Self.at(10))
        #expect(deliveredMessage.lastError == nil)
        #expect(deliveredMessage.attempts == 1)
        #expect(deliveredAttempts == [DeliveryAttempt(number: 1, startedAt: Self.at(10), durationMs: 12, outcome: .delivered, detail: "stored")])
        let inbox = try await store.inbox(tenantID: fixture.tenantID, subscriberID: "s0", filter: .all, cursor: nil, limit: 10).items
        #expect(inbox.map(\.id) == [deliveredMessage.id])
        #expect(inbox.map(\.title) == ["Shipped"])
        #expect(inbox.map(\.body) == ["On its way"])
        #expect(inbox.map(\.actionURL) == ["https://example.com/o/1"])

        let (failedMessage, failedAttempts) = try await fixture.message(failed.rowID)
        #expect(failedMessage.status == .failed)
        #expect(failedMessage.reason == "bounced")
        #expect(failedMessage.lastError == "550 no such user")
        #expect(failedMessage.sentAt == nil)
        #expect(failedAttempts.map(\.outcome) == [.permanentFailure])

        let (retriedMessage, retriedAttempts) = try await fixture.message(retried.rowID)
        #expect(retriedMessage.status == .queued)
        #expect(retriedMessage.availableAt == Self.at(300))
        #expect(retriedMessage.lastError == "421 try later")
        #expect(retriedMessage.attempts == 1)
        #expect(retriedAttempts.map(\.outcome) == [.transientFailure])

        let (sentMessage, _) = try await fixture.message(sent.rowID)
        #expect(sentMessage.status == .sent)
        #expect(sentMessage.sentAt == Self.at(10))

        #expect(
            try await store.messageCounts(tenantID: fixture.tenantID, eventID: event.eventID) == [
                "delivered": 1, "failed": 1, "queued": 1, "sent": 1,
            ])

        // The same outcomes again: the leases are gone, so nothing is recorded twice.
        #expect(try await store.complete(outcomes, owner: "A", now: Self.at(11)) == [])
        #expect(try await fixture.message(failed.rowID).1.count == 1)
        #expect(try await fixture.message(delivered.rowID).1.count == 1)

        // The retry comes due at its time, as the second attempt.
        #expect(try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(299), leaseUntil: Self.at(360)).messages.isEmpty)
        let retry = try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(300), leaseUntil: Self.at(360)).messages
        #expect(retry.map(\.rowID) == [retried.rowID])
        #expect(retry.map(\.attempt) == [2])
        let aHolds = try #require(retry.first)

        // A stalls past its lease; B takes the message over. A's late success must not overwrite B's outcome.
        let bHolds = try #require(
            try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: Self.at(361), leaseUntil: Self.at(420)).messages.first)
        #expect(bHolds.rowID == retried.rowID)
        #expect(bHolds.attempt == 3)
        #expect(
            try await store.complete(
                [
                    StoreContractFixture.outcome(
                        aHolds, .delivered, at: Self.at(362), detail: "late", inbox: InboxContent(title: "x", body: "y", actionURL: nil))
                ],
                owner: "A", now: Self.at(362)) == [])
        #expect(try await fixture.message(retried.rowID).0.status == .sending, "still B's")
        #expect(
            try await store.complete(
                [StoreContractFixture.outcome(bHolds, .deadLettered, at: Self.at(363), reason: "attempts exhausted", detail: "421 still busy")],
                owner: "B", now: Self.at(363)) == [retried.rowID])
        #expect(
            try await store.complete(
                [StoreContractFixture.outcome(aHolds, .delivered, at: Self.at(364), detail: "later still")], owner: "A", now: Self.at(364))
                == [])
        let (final, finalAttempts) = try await fixture.message(retried.rowID)
        #expect(final.status == .deadLettered)
        #expect(final.reason == "attempts exhausted")
        #expect(final.lastError == "421 still busy")
        #expect(final.sentAt == nil)
        #expect(finalAttempts.map(\.number) == [1, 3], "A's lost attempt is not recorded")
        #expect(finalAttempts.map(\.detail) == ["421 try later", "421 still busy"])
        #expect(try await store.inbox(tenantID: fixture.tenantID, subscriberID: "s2", filter: .all, cursor: nil, limit: 10).items.isEmpty)
    }
}
