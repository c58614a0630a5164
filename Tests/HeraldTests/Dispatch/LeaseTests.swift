import Foundation
import Herald
import Synchronization
import Testing

/// Leases are how nodes share the queue: a claim lasts one lease, a live dispatcher renews it while a
/// batch is slow, and a dead one's claims are the first thing the others take once it runs out.
@Suite("Leases: takeover and renewal", .dropsPostgresSchemas)
struct LeaseTests {
    @Test("a claim takes expired leases before an older backlog", arguments: StoreBackend.available)
    func expiredLeasesFirst(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(20)
        _ = try await engine.announce("Backlog", to: ids, tenantID: tenant.id)
        let start = Date()
        // A node claims a part of the queue and dies: its leases end one second later.
        let dead = try await engine.store.claimMessages(
            owner: "dead-node", scope: .all, limit: 10, now: start, leaseUntil: start.addingTimeInterval(1))
        #expect(dead.messages.count == 10)
        // Two seconds on, the other 30 messages have been due since before the lease ended. The next claim
        // still takes the dead node's 10 first, so the takeover is bounded by the lease, not by the backlog.
        let later = start.addingTimeInterval(2)
        let takeover = try await engine.store.claimMessages(
            owner: "live-node", scope: .all, limit: 10, now: later, leaseUntil: later.addingTimeInterval(30))
        #expect(Set(takeover.messages.map(\.rowID)) == Set(dead.messages.map(\.rowID)))
        #expect(takeover.messages.allSatisfy { $0.attempt == 2 })
        // With room to spare, a claim takes the expired leases and then the queue.
        let rest = try await engine.store.claimMessages(
            owner: "live-node", scope: .all, limit: 100, now: later, leaseUntil: later.addingTimeInterval(30))
        #expect(rest.messages.count == 30)
        #expect(Set(rest.messages.map(\.rowID)).isDisjoint(with: takeover.messages.map(\.rowID)))
    }

    @Test("a renewed lease is not taken over; only its owner renews it", arguments: StoreBackend.available)
    func renewal(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        _ = try await engine.announce("Slow", to: ids, tenantID: tenant.id)
        let start = Date()
        let claimed = try await engine.store.claimMessages(
            owner: "node-a", scope: .all, limit: 100, now: start, leaseUntil: start.addingTimeInterval(1))
        let rows = claimed.messages.map(\.rowID)
        #expect(rows.count == 6)
        #expect(try await engine.store.renewLeases(owner: "node-b", ids: rows, until: start.addingTimeInterval(60)) == 0)
        #expect(try await engine.store.renewLeases(owner: "node-a", ids: rows, until: start.addingTimeInterval(10)) == 6)
        // Past the first lease, inside the renewed one: nothing to take.
        let during = start.addingTimeInterval(5)
        let early = try await engine.store.claimMessages(
            owner: "node-b", scope: .all, limit: 100, now: during, leaseUntil: during.addingTimeInterval(30))
        #expect(early.messages.isEmpty)
        // Once renewals stop (node A died), the renewed lease runs out like any other.
        let after = start.addingTimeInterval(11)
        let takeover = try await engine.store.claimMessages(
            owner: "node-b", scope: .all, limit: 100, now: after, leaseUntil: after.addingTimeInterval(30))
        #expect(Set(takeover.messages.map(\.rowID)) == Set(rows))
        // Node A's renewal after losing the leases changes nothing.
        #expect(try await engine.store.renewLeases(owner: "node-a", ids: rows, until: after.addingTimeInterval(60)) == 0)
    }

    @Test("a batch slower than its lease keeps its messages while its dispatcher lives", arguments: StoreBackend.available)
    func slowBatchKeepsItsLease(_ backend: StoreBackend) async throws {
        // A lease of 1.5 s renewed every 0.5 s: room for a renewal to wait a second on a loaded two-core machine (with
        // 0.6 s, a PostgreSQL renewal delayed past the lease let this node's own dispatcher take the batch again).
        let slow = SlowChannel(kind: .email, seconds: 4)
        let engine = try await TestEngine.make(on: backend, { $0.dispatch.leaseSeconds = 1.5 }, channels: [slow])
        let (tenant, ids) = try await engine.tenantWithSubscribers(4)
        let event = try await engine.announce("Slow mail", to: ids, tenantID: tenant.id)
        let stolen = try await engine.whileRunning {
            // Another node's claims while the slow batch is out: it must find nothing of it.
            #expect(try await engine.eventually { slow.started > 0 })
            var stolen = 0
            let deadline = Date().addingTimeInterval(slow.seconds)
            while Date() < deadline {
                let now = Date()
                let claim = try await engine.store.claimMessages(
                    owner: "other-node", scope: .all, limit: 100, now: now, leaseUntil: now.addingTimeInterval(60))
                stolen += claim.messages.count
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try await engine.settledMessages(tenantID: tenant.id, eventID: event)
            return stolen
        }
        #expect(stolen == 0)
        let messages = try await engine.eventDetails(tenantID: tenant.id, id: event).messages.filter { $0.channel == .email }
        #expect(messages.count == 4)
        #expect(messages.allSatisfy { $0.status == .sent })
        for message in messages {
            #expect(try await engine.message(tenantID: tenant.id, id: message.id).1.count == 1)
        }
        #expect(slow.delivered == 4)
    }
}

/// A channel that takes `seconds` over every batch, like an SMTP server at its slowest, then accepts it.
final class SlowChannel: DeliveryChannel {
    let kind: ChannelKind
    let seconds: Double
    private let counts = Mutex<(started: Int, delivered: Int)>((0, 0))

    init(kind: ChannelKind, seconds: Double) {
        self.kind = kind
        self.seconds = seconds
    }

    var started: Int { counts.withLock { $0.started } }
    var delivered: Int { counts.withLock { $0.delivered } }

    func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        counts.withLock { $0.started += 1 }
        try? await Task.sleep(for: .seconds(seconds))
        counts.withLock { $0.delivered += batch.count }
        return batch.map { _ in .sent(detail: "250 accepted slowly") }
    }
}

/// Work that runs once in the cluster because the database says so.
@Suite("Cluster-wide cleanup", .dropsPostgresSchemas)
struct ClusterCleanupTests {
    @Test(
        "while one node sweeps expired rows, another node's sweep leaves them to it",
        .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
    func oneSweepAtATime() async throws {
        let engine = try await TestEngine.make(on: .postgres)
        let store = try #require(engine.store as? PostgresStore)
        let schema = try #require(store.configuration.schema)
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        _ = try await engine.announce("Old news", to: ids, tenantID: tenant.id)
        // Far enough ahead that every message and event is past its retention.
        let later = Date().addingTimeInterval(400 * 86_400)
        // Another node in the middle of its sweep holds the cleanup lock.
        let other = try await PostgresTestSchemas.connect()
        defer { Task { try? await other.close() } }
        let logger = engine.logger
        _ = try await other.query("SELECT pg_advisory_lock(hashtext('cleanup:' || \(schema)))", logger: logger).collect()
        let skipped = try await store.deleteExpired(now: later, idempotencyCutoff: later, limit: 1000)
        #expect(skipped.messages == 0 && skipped.events == 0)
        _ = try await other.query("SELECT pg_advisory_unlock(hashtext('cleanup:' || \(schema)))", logger: logger).collect()
        let swept = try await store.deleteExpired(now: later, idempotencyCutoff: later, limit: 1000)
        #expect(swept.messages == 6)
    }
}
