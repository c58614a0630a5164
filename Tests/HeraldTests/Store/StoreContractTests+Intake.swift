import Foundation
import Herald
import Testing

/// Intake: idempotent accepts, cancellation, and topic fan-out.
extension StoreContractTests {
    @Test(
        "accept with an idempotency claim: the same key and hash replays the first receipts, another hash is a conflict, nothing is written twice",
        arguments: StoreBackend.available)
    func idempotentAccept(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let type = Self.inAppType("order_shipped")
        let claim = IdempotencyClaim(key: "event:k1", requestHash: "hash-1")

        let first = fixture.prepared(type, to: [.subscriber("s0"), .subscriber("s1")])
        guard case .accepted(let receipts) = try await store.accept(tenantID: fixture.tenantID, triggers: [first], idempotency: claim, now: Self.base)
        else {
            Issue.record("the first use of a key is accepted")
            return
        }
        #expect(receipts == [TriggerReceipt(eventId: first.eventID, status: .planned, messages: ["queued": 2], topics: [])])

        // The same key and hash, sent again (the engine makes a new event id each time): the stored answer comes back.
        let again = fixture.prepared(type, to: [.subscriber("s0"), .subscriber("s1")])
        guard
            case .replayed(let replayed) = try await store.accept(
                tenantID: fixture.tenantID, triggers: [again], idempotency: claim, now: Self.at(5))
        else {
            Issue.record("a repeat with the same hash is replayed")
            return
        }
        #expect(replayed == receipts)

        // The same key with another body.
        let other = fixture.prepared(type, to: [.subscriber("s2")])
        let error = await #expect(throws: HeraldError.self) {
            _ = try await store.accept(
                tenantID: fixture.tenantID, triggers: [other], idempotency: IdempotencyClaim(key: "event:k1", requestHash: "hash-2"), now: Self.at(6))
        }
        #expect(error?.isConflict == true, "got \(String(describing: error))")

        // One event and its two messages, written once.
        let events = try await store.events(tenantID: fixture.tenantID, type: nil, cursor: nil, limit: 50)
        #expect(events.items.map(\.id) == [first.eventID])
        #expect(try await store.event(tenantID: fixture.tenantID, id: again.eventID) == nil)
        #expect(try await store.event(tenantID: fixture.tenantID, id: other.eventID) == nil)
        #expect(try await fixture.allMessages().map(\.subscriberId) == ["s0", "s1"])
        #expect(try await store.messageCounts(tenantID: fixture.tenantID, eventID: first.eventID) == ["queued": 2])

        // Keys belong to a tenant: another tenant's use of the same key is its own.
        let otherTenant = try await fixture.otherTenant()
        let theirs = fixture.prepared(type, to: [.subscriber("s0")])
        let outcome = try await store.accept(
            tenantID: otherTenant, triggers: [theirs], idempotency: IdempotencyClaim(key: "event:k1", requestHash: "hash-2"), now: Self.at(7))
        guard case .accepted(let theirReceipts) = outcome else {
            Issue.record("another tenant's key is not this tenant's: \(outcome)")
            return
        }
        #expect(theirReceipts.map(\.eventId) == [theirs.eventID])
    }

    @Test(
        "acceptMany answers each request on its own: a repeated key in the batch replays, a reused key with another hash and an unknown recipient fail alone",
        arguments: StoreBackend.available)
    func idempotentAcceptMany(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let type = Self.inAppType("order_shipped")
        let key = IdempotencyClaim(key: "event:k2", requestHash: "hash-1")
        let first = fixture.prepared(type, to: [.subscriber("s0")])
        let repeated = fixture.prepared(type, to: [.subscriber("s0")])
        let clashing = fixture.prepared(type, to: [.subscriber("s1")])
        let unknown = fixture.prepared(type, to: [.subscriber("nobody")])
        let plain = fixture.prepared(type, to: [.subscriber("s2")])
        let results = try await store.acceptMany(
            [
                AcceptRequest(tenantID: fixture.tenantID, triggers: [first], idempotency: key),
                AcceptRequest(tenantID: fixture.tenantID, triggers: [repeated], idempotency: key),
                AcceptRequest(
                    tenantID: fixture.tenantID, triggers: [clashing], idempotency: IdempotencyClaim(key: "event:k2", requestHash: "hash-2")),
                AcceptRequest(tenantID: fixture.tenantID, triggers: [unknown], idempotency: nil),
                AcceptRequest(tenantID: fixture.tenantID, triggers: [plain], idempotency: nil),
            ], now: Self.base)
        try #require(results.count == 5)

        let expectedFirst = [TriggerReceipt(eventId: first.eventID, status: .planned, messages: ["queued": 1], topics: [])]
        guard case .success(.accepted(let accepted)) = results[0] else {
            Issue.record("the first request is accepted: \(results[0])")
            return
        }
        #expect(accepted == expectedFirst)
        guard case .success(.replayed(let replayed)) = results[1] else {
            Issue.record("the same key and hash later in the batch replays: \(results[1])")
            return
        }
        #expect(replayed == expectedFirst)
        guard case .failure(let clash) = results[2] else {
            Issue.record("the key with another hash is refused: \(results[2])")
            return
        }
        #expect((clash as? HeraldError)?.isConflict == true, "got \(clash)")
        guard case .failure(let invalid) = results[3] else {
            Issue.record("an unknown subscriber is refused: \(results[3])")
            return
        }
        #expect((invalid as? HeraldError)?.isInvalid == true, "got \(invalid)")
        guard case .success(.accepted(let plainReceipts)) = results[4] else {
            Issue.record("a request after refused ones is accepted: \(results[4])")
            return
        }
        #expect(plainReceipts == [TriggerReceipt(eventId: plain.eventID, status: .planned, messages: ["queued": 1], topics: [])])

        let events = try await store.events(tenantID: fixture.tenantID, type: nil, cursor: nil, limit: 50).items
        #expect(Set(events.map(\.id)) == [first.eventID, plain.eventID])
        #expect(events.count == 2)
        #expect(try await fixture.allMessages().map(\.subscriberId) == ["s0", "s2"])
    }

    @Test(
        "inline recipients are upserted with the request: a new one is created, a known one keeps what the input leaves out, `null` quiet hours remove them, an id given twice is applied in order; each gets its message once",
        arguments: StoreBackend.available)
    func inlineRecipients(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let hours = QuietHours(start: "22:00", end: "07:00")
        _ = try await store.upsertSubscriber(
            tenantID: fixture.tenantID, SubscriberInput(id: "s0", name: "Ann", email: "ann@example.com", quietHours: .some(hours)))
        _ = try await store.upsertSubscriber(tenantID: fixture.tenantID, SubscriberInput(id: "s1", name: "Bo", quietHours: .some(hours)))
        let type = Self.inAppType("notice")
        let first = fixture.prepared(
            type,
            to: [
                .inline(SubscriberInput(id: "s0", locale: "de")), .inline(SubscriberInput(id: "s1", quietHours: .some(nil))),
                .inline(SubscriberInput(id: "new", name: "Nia", data: ["team": "blue"])), .subscriber("s2"),
            ])
        #expect(try await fixture.accept(first, at: Self.base).messages == ["queued": 4])
        let ann = try #require(try await store.subscriber(tenantID: fixture.tenantID, id: "s0"))
        #expect(ann.name == "Ann" && ann.email == "ann@example.com" && ann.locale == "de" && ann.quietHours == hours)
        let bo = try #require(try await store.subscriber(tenantID: fixture.tenantID, id: "s1"))
        #expect(bo.name == "Bo" && bo.quietHours == nil)
        let nia = try #require(try await store.subscriber(tenantID: fixture.tenantID, id: "new"))
        #expect(nia.name == "Nia" && nia.data == ["team": "blue"])
        #expect(try await fixture.messages(event: first.eventID).map(\.subscriberId) == ["s0", "s1", "new", "s2"])

        // The same id twice in one request, and in two triggers of one request: applied in order, one message each.
        let second = fixture.prepared(
            type, to: [.inline(SubscriberInput(id: "s3", name: "First")), .inline(SubscriberInput(id: "s3", email: "s3@example.com"))])
        let third = fixture.prepared(type, to: [.inline(SubscriberInput(id: "s3", name: "Last")), .inline(SubscriberInput(id: "s4", name: "Di"))])
        let outcome = try await store.accept(tenantID: fixture.tenantID, triggers: [second, third], idempotency: nil, now: Self.at(1))
        guard case .accepted(let receipts) = outcome else {
            Issue.record("accepted: \(outcome)")
            return
        }
        #expect(receipts.map(\.messages) == [["queued": 1], ["queued": 2]])
        let s3 = try #require(try await store.subscriber(tenantID: fixture.tenantID, id: "s3"))
        #expect(s3.name == "Last" && s3.email == "s3@example.com")
        #expect(try await store.subscriber(tenantID: fixture.tenantID, id: "s4")?.name == "Di")
        #expect(try await fixture.messages(event: third.eventID).map(\.subscriberId) == ["s3", "s4"])
    }

    @Test(
        "cancelEvent and cancelEvents(cancellationKey:) cancel what has not gone out and count it; an unknown event answers nil",
        arguments: StoreBackend.available)
    func cancellation(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let type = Self.inAppType("reminder")

        // One event whose messages are in every state: delivered, sending under a live lease, waiting for a retry.
        let mixed = fixture.prepared(type, to: [.subscriber("s0"), .subscriber("s1"), .subscriber("s2")])
        try await fixture.accept(mixed, at: Self.base)
        let claimed = try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(1), leaseUntil: Self.at(60)).messages
        try #require(claimed.count == 3)
        let bySubscriber = Dictionary(uniqueKeysWithValues: claimed.map { ($0.subscriber.id, $0) })
        let delivered = try #require(bySubscriber["s0"])
        let inFlight = try #require(bySubscriber["s1"])
        let retrying = try #require(bySubscriber["s2"])
        _ = try await store.complete(
            [
                StoreContractFixture.outcome(delivered, .delivered, at: Self.at(2), inbox: InboxContent(title: "t", body: "b", actionURL: nil)),
                StoreContractFixture.outcome(retrying, .queued, at: Self.at(2), detail: "timeout", retryAt: Self.at(500)),
            ], owner: "A", now: Self.at(2))

        let key1 = fixture.prepared(type, to: [.subscriber("s0"), .subscriber("s1")], cancellationKey: "wf-1")
        let key2 = fixture.prepared(type, to: [.subscriber("s2")], cancellationKey: "wf-1")
        let keyOther = fixture.prepared(type, to: [.subscriber("s3")], cancellationKey: "wf-2")
        for trigger in [key1, key2, keyOther] { try await fixture.accept(trigger, at: Self.at(3)) }

        // Only the retry is still waiting; the delivered message has gone out, the leased one may be going out now.
        #expect(try await store.cancelEvent(tenantID: fixture.tenantID, id: mixed.eventID, now: Self.at(10)) == 1)
        var statuses = Dictionary(uniqueKeysWithValues: try await fixture.messages(event: mixed.eventID).map { ($0.subscriberId, $0.status) })
        #expect(statuses == ["s0": .delivered, "s1": .sending, "s2": .cancelled])
        #expect(try await store.event(tenantID: fixture.tenantID, id: mixed.eventID)?.status == .cancelled)
        // Once its lease has run out, the leased message belongs to a dispatcher that died: cancelling now stops it,
        // and the late dispatcher's outcome no longer lands.
        #expect(try await store.cancelEvent(tenantID: fixture.tenantID, id: mixed.eventID, now: Self.at(61)) == 1)
        #expect(
            try await store.complete([StoreContractFixture.outcome(inFlight, .delivered, at: Self.at(62))], owner: "A", now: Self.at(62)) == [])
        statuses = Dictionary(uniqueKeysWithValues: try await fixture.messages(event: mixed.eventID).map { ($0.subscriberId, $0.status) })
        #expect(statuses == ["s0": .delivered, "s1": .cancelled, "s2": .cancelled])

        // By cancellation key: both events holding it, in the order they were triggered, and their three messages.
        let result = try await store.cancelEvents(tenantID: fixture.tenantID, cancellationKey: "wf-1", now: Self.at(70))
        #expect(result == CancellationResult(events: [key1.eventID, key2.eventID], messages: 3))
        for event in [key1, key2] {
            #expect(
                try await fixture.messages(event: event.eventID).map(\.status) == Array(repeating: .cancelled, count: event.trigger.recipients.count))
            #expect(try await store.event(tenantID: fixture.tenantID, id: event.eventID)?.status == .cancelled)
        }
        #expect(try await fixture.messages(event: keyOther.eventID).map(\.status) == [.queued], "another key's event is untouched")
        #expect(try await store.event(tenantID: fixture.tenantID, id: keyOther.eventID)?.status == .planned)

        // Again, or with a key nobody used: nothing.
        #expect(
            try await store.cancelEvents(tenantID: fixture.tenantID, cancellationKey: "wf-1", now: Self.at(71))
                == CancellationResult(events: [], messages: 0))
        #expect(
            try await store.cancelEvents(tenantID: fixture.tenantID, cancellationKey: "wf-9", now: Self.at(71))
                == CancellationResult(events: [], messages: 0))
        // An unknown event, and one of another tenant, are nil, not zero.
        #expect(try await store.cancelEvent(tenantID: fixture.tenantID, id: "ev_unknown", now: Self.at(72)) == nil)
        let otherTenant = try await fixture.otherTenant()
        #expect(try await store.cancelEvent(tenantID: otherTenant, id: keyOther.eventID, now: Self.at(72)) == nil)
        #expect(
            try await store.cancelEvents(tenantID: otherTenant, cancellationKey: "wf-2", now: Self.at(72))
                == CancellationResult(events: [], messages: 0))

        // Cancelled messages are never claimed: only the other key's message is left to send.
        let left = try await store.claimMessages(owner: "B", scope: .all, limit: 10, now: Self.at(1000), leaseUntil: Self.at(1060)).messages
        #expect(left.map(\.eventID) == [keyOther.eventID])
    }

    @Test(
        "a topic's fan-out job is claimed once and plans its members in row order, a chunk at a time, until finished; a chunk under another owner does nothing",
        arguments: StoreBackend.available)
    func fanoutChunks(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend, subscribers: ["s0", "s1", "s2", "s3", "s4", "outsider"])
        let store = fixture.store
        let type = Self.inAppType("announcement")
        _ = try await store.upsertTopic(tenantID: fixture.tenantID, key: "residents", name: nil)
        // Added out of order: members are walked in subscriber row order, whatever order they joined in.
        #expect(
            try await store.addTopicMembers(
                tenantID: fixture.tenantID, topic: "residents", members: ["s3", "s1", "s4", "s0", "s2"].map(Recipient.subscriber)) == 5)

        let event = fixture.prepared(type, to: [.topic("residents")])
        #expect(
            try await fixture.accept(event, at: Self.base)
                == TriggerReceipt(eventId: event.eventID, status: .fanningOut, messages: [:], topics: ["residents"]))
        #expect(try await store.event(tenantID: fixture.tenantID, id: event.eventID)?.status == .fanningOut)
        #expect(try await fixture.messages(event: event.eventID).isEmpty, "nothing is planned before the job runs")

        let job = try #require(try await store.claimFanoutJob(owner: "A", now: Self.at(1), leaseUntil: Self.at(60)))
        #expect(job.eventID == event.eventID)
        #expect(job.tenantID == fixture.tenantID)
        #expect(try await store.claimFanoutJob(owner: "B", now: Self.at(2), leaseUntil: Self.at(60)) == nil, "the job is leased to A")

        // B does not hold the job: its chunk plans nothing, and says there is nothing more for it to do.
        let (_, foreign) = try await store.fanoutChunk(job, owner: "B", limit: 2, now: Self.at(3), leaseUntil: Self.at(60))
        #expect(foreign == FanoutProgress(planned: 0, finished: true))
        #expect(try await fixture.messages(event: event.eventID).isEmpty)

        var current = job
        var chunks: [[String]] = []
        var progress: [FanoutProgress] = []
        for step in 0..<5 {
            let seen = try await fixture.messages(event: event.eventID).count
            let (next, made) = try await store.fanoutChunk(current, owner: "A", limit: 2, now: Self.at(4 + Double(step)), leaseUntil: Self.at(60))
            progress.append(made)
            chunks.append(try await fixture.messages(event: event.eventID).dropFirst(seen).map(\.subscriberId))
            current = next
            if made.finished { break }
        }
        #expect(chunks == [["s0", "s1"], ["s2", "s3"], ["s4"]])
        #expect(progress.map(\.planned) == [2, 2, 1])
        #expect(progress.map(\.finished) == [false, false, true])
        #expect(try await fixture.messages(event: event.eventID).map(\.status) == Array(repeating: .queued, count: 5))
        #expect(try await store.event(tenantID: fixture.tenantID, id: event.eventID)?.status == .planned)
        #expect(try await store.claimFanoutJob(owner: "B", now: Self.at(100), leaseUntil: Self.at(160)) == nil, "a finished job is not claimed again")

        // A takeover: A's lease runs out mid-job, B claims it where A left off, and A's late chunk does nothing.
        let second = fixture.prepared(type, to: [.topic("residents")])
        try await fixture.accept(second, at: Self.at(200))
        let firstHold = try #require(try await store.claimFanoutJob(owner: "A", now: Self.at(201), leaseUntil: Self.at(260)))
        #expect(firstHold.eventID == second.eventID)
        let (afterA, madeByA) = try await store.fanoutChunk(firstHold, owner: "A", limit: 2, now: Self.at(202), leaseUntil: Self.at(260))
        #expect(madeByA == FanoutProgress(planned: 2, finished: false))
        #expect(try await store.claimFanoutJob(owner: "B", now: Self.at(259), leaseUntil: Self.at(400)) == nil, "A's lease still holds")
        let taken = try #require(try await store.claimFanoutJob(owner: "B", now: Self.at(261), leaseUntil: Self.at(400)))
        #expect(taken.id == firstHold.id)
        #expect(taken.cursor == afterA.cursor, "B starts where A's last chunk ended")
        let (_, late) = try await store.fanoutChunk(afterA, owner: "A", limit: 2, now: Self.at(262), leaseUntil: Self.at(320))
        #expect(late == FanoutProgress(planned: 0, finished: true))
        #expect(try await fixture.messages(event: second.eventID).map(\.subscriberId) == ["s0", "s1"])
        var byB = taken
        var madeByB: [FanoutProgress] = []
        for step in 0..<5 {
            let (next, made) = try await store.fanoutChunk(byB, owner: "B", limit: 2, now: Self.at(263 + Double(step)), leaseUntil: Self.at(400))
            madeByB.append(made)
            byB = next
            if made.finished { break }
        }
        #expect(madeByB == [FanoutProgress(planned: 2, finished: false), FanoutProgress(planned: 1, finished: true)])
        #expect(try await fixture.messages(event: second.eventID).map(\.subscriberId) == ["s0", "s1", "s2", "s3", "s4"], "each member once")

        // A cancelled event's job is never claimed.
        let third = fixture.prepared(type, to: [.topic("residents")])
        try await fixture.accept(third, at: Self.at(500))
        #expect(try await store.cancelEvent(tenantID: fixture.tenantID, id: third.eventID, now: Self.at(501)) == 0)
        #expect(try await store.claimFanoutJob(owner: "A", now: Self.at(502), leaseUntil: Self.at(560)) == nil)
        #expect(try await fixture.messages(event: third.eventID).isEmpty)
    }
}
