import Foundation
import Herald
import Testing

/// SQLite's one writer and a critical write: a fan-out chunk stops part-way for a write announced as waiting
/// (``UrgentWrites``), and commits what it planned, so the next chunk goes on from there; a chunk planned
/// ahead of it (``PlannedFanoutChunk``) is then refused and planned again.
@Suite("Urgent writes", .dropsPostgresSchemas)
struct UrgentWritesTests {
    @Test(
        "while a critical write waits, a SQLite fan-out chunk plans one part of 100 members and commits it; the next goes on from there, every member once",
        arguments: StoreBackend.available)
    func fanoutChunkStopsForUrgentWrite(_ backend: StoreBackend) async throws {
        let (fixture, ids, event, job) = try await Self.topicEvent(on: backend)
        let store = fixture.store

        guard let urgent = store.urgentWrites else {
            // PostgreSQL's writers do not queue behind each other: a chunk is planned whole.
            #expect(backend == .postgres)
            let (_, whole) = try await store.fanoutChunk(job, owner: "A", limit: 1000, now: StoreContractTests.at(2), leaseUntil: StoreContractTests.at(60))
            #expect(whole == FanoutProgress(planned: 250, finished: true))
            return
        }
        #expect(backend == .sqlite)
        urgent.raise()
        #expect(urgent.arePending)
        let (next, first) = try await store.fanoutChunk(job, owner: "A", limit: 1000, now: StoreContractTests.at(2), leaseUntil: StoreContractTests.at(60))
        urgent.lower()
        #expect(!urgent.arePending)
        #expect(first == FanoutProgress(planned: 100, finished: false), "one part, then the chunk commits for the waiting write")
        #expect(try await fixture.messages(event: event.eventID).map(\.subscriberId) == Array(ids.prefix(100)))

        let (_, rest) = try await store.fanoutChunk(next, owner: "A", limit: 1000, now: StoreContractTests.at(3), leaseUntil: StoreContractTests.at(60))
        #expect(rest == FanoutProgress(planned: 150, finished: true))
        let planned = try await fixture.messages(event: event.eventID).map(\.subscriberId)
        #expect(planned == ids, "every member once, in row order")
        #expect(try await store.event(tenantID: fixture.tenantID, id: event.eventID)?.status == .planned)
    }

    @Test(
        "a chunk planned ahead is written only from the job's cursor: ahead of one not yet written (or cut short) it is refused as moved, and nothing is lost or repeated",
        arguments: StoreBackend.available)
    func plannedAheadChunk(_ backend: StoreBackend) async throws {
        let (fixture, ids, event, job) = try await Self.topicEvent(on: backend)
        let store = fixture.store
        let (now, lease) = (StoreContractTests.at(2), StoreContractTests.at(60))

        let first = try #require(try await store.planFanoutChunk(job, limit: 100, now: now, inApp: nil))
        var ahead = job
        ahead.cursor = first.endCursor
        let second = try #require(try await store.planFanoutChunk(ahead, limit: 100, now: now, inApp: nil))
        #expect(try await fixture.messages(event: event.eventID).isEmpty, "planning writes nothing")

        let (unmoved, refused) = try await store.writeFanoutChunk(second, owner: "A", now: now, leaseUntil: lease)
        #expect(refused == FanoutProgress(planned: 0, finished: false, moved: true))
        #expect(unmoved.cursor == job.cursor, "the answer carries the job's cursor, to plan again from")
        #expect(try await fixture.messages(event: event.eventID).isEmpty)

        let (afterFirst, one) = try await store.writeFanoutChunk(first, owner: "A", now: now, leaseUntil: lease)
        #expect(one == FanoutProgress(planned: 100, finished: false))
        #expect(afterFirst.cursor == first.endCursor)
        let (afterSecond, two) = try await store.writeFanoutChunk(second, owner: "A", now: now, leaseUntil: lease)
        #expect(two == FanoutProgress(planned: 100, finished: false))

        let third = try #require(try await store.planFanoutChunk(afterSecond, limit: 100, now: now, inApp: nil))
        let (_, foreign) = try await store.writeFanoutChunk(third, owner: "B", now: now, leaseUntil: lease)
        #expect(foreign == FanoutProgress(planned: 0, finished: true), "a worker that does not hold the job writes nothing")
        let (_, last) = try await store.writeFanoutChunk(third, owner: "A", now: now, leaseUntil: lease)
        #expect(last == FanoutProgress(planned: 50, finished: true))
        #expect(try await fixture.messages(event: event.eventID).map(\.subscriberId) == ids, "every member once, in row order")
        #expect(try await store.event(tenantID: fixture.tenantID, id: event.eventID)?.status == .planned)
        #expect(try await store.planFanoutChunk(afterSecond, limit: 100, now: now, inApp: nil) == nil, "a finished job plans nothing")
    }

    @Test(
        "a member deleted, or taken off the topic, after their chunk was planned gets nothing: the chunk is refused as moved and planned again without them",
        arguments: StoreBackend.available)
    func membersChangedSincePlanning(_ backend: StoreBackend) async throws {
        let (fixture, ids, event, job) = try await Self.topicEvent(on: backend)
        let store = fixture.store
        let (now, lease) = (StoreContractTests.at(2), StoreContractTests.at(60))

        let stale = try #require(try await store.planFanoutChunk(job, limit: 100, now: now, inApp: nil))
        #expect(try await store.deleteSubscriber(tenantID: fixture.tenantID, id: "m010"))
        let (unmoved, refused) = try await store.writeFanoutChunk(stale, owner: "A", now: now, leaseUntil: lease)
        #expect(refused == FanoutProgress(planned: 0, finished: false, moved: true))
        #expect(unmoved.cursor == job.cursor)
        #expect(try await fixture.messages(event: event.eventID).isEmpty, "nothing written for a chunk planned with a deleted member")

        let first = try #require(try await store.planFanoutChunk(unmoved, limit: 100, now: now, inApp: nil))
        #expect(try await store.removeTopicMembers(tenantID: fixture.tenantID, topic: "everyone", subscriberIDs: ["m050"]) == 1)
        #expect(try await store.writeFanoutChunk(first, owner: "A", now: now, leaseUntil: lease).1.moved, "a member taken off the topic")

        var (next, progress) = try await store.fanoutChunk(unmoved, owner: "A", limit: 100, now: now, leaseUntil: lease)
        while !progress.finished {
            (next, progress) = try await store.fanoutChunk(next, owner: "A", limit: 100, now: now, leaseUntil: lease)
        }
        #expect(
            try await fixture.messages(event: event.eventID).map(\.subscriberId) == ids.filter { $0 != "m010" && $0 != "m050" },
            "every remaining member once, in row order")
    }

    @Test("a request holding a critical trigger is urgent; one without is not")
    func requestUrgency() {
        func request(_ priorities: [Priority]) -> AcceptRequest {
            AcceptRequest(
                tenantID: "t",
                triggers: priorities.map { priority in
                    PreparedTrigger(
                        eventID: "ev", trigger: Trigger(type: "x", recipients: [.subscriber("s")]),
                        eventType: EventType(key: "x", priority: priority, channels: [.inApp]), expiresAt: StoreContractTests.base)
                }, idempotency: nil)
        }
        #expect(request([.low, .critical]).isUrgent)
        #expect(!request([.low, .high, .medium]).isUrgent)
        #expect(!request([]).isUrgent)
    }

    /// A low-priority in-app event to a topic of 250 members (m000 … m249), accepted, with its fan-out job leased to A.
    static func topicEvent(on backend: StoreBackend) async throws -> (StoreContractFixture, [String], PreparedTrigger, FanoutJob) {
        let ids = (0..<250).map { String(format: "m%03d", $0) }
        let fixture = try await StoreContractFixture.make(on: backend, subscribers: ids)
        let store = fixture.store
        _ = try await store.upsertTopic(tenantID: fixture.tenantID, key: "everyone", name: nil)
        #expect(try await store.addTopicMembers(tenantID: fixture.tenantID, topic: "everyone", members: ids.map(Recipient.subscriber)) == 250)
        let event = fixture.prepared(StoreContractTests.inAppType("bulletin", priority: .low), to: [.topic("everyone")])
        try await fixture.accept(event, at: StoreContractTests.base)
        let job = try #require(try await store.claimFanoutJob(owner: "A", now: StoreContractTests.at(1), leaseUntil: StoreContractTests.at(60)))
        return (fixture, ids, event, job)
    }
}
