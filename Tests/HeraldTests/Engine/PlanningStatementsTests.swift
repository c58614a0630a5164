import Foundation
import Herald
import Testing

/// Planning costs a number of statements that does not grow with the recipients: a trigger to a thousand
/// subscribers under dedup, a digest and a rate limit is loaded and written in as many statements as one
/// to ten. Counted on PostgreSQL, where each statement is a round trip.
@Suite("Planning statements", .dropsPostgresSchemas)
struct PlanningStatementsTests {
    static let type = FlowControlTests.activityType("ticket_updated") {
        $0.dedup = DedupSpec(window: "10m", fields: ["ref"])
        $0.digest = DigestSpec(window: "1h")
        $0.rateLimit = RateLimit(limit: 10, period: "1h")
    }

    /// Statements sent to PostgreSQL in the transaction of one bulk request of one trigger.
    static func statements(_ engine: HeraldEngine, tenantID: String, recipients: [String], seq: Int, ref: String) async throws
        -> (statements: Int, receipt: TriggerReceipt)
    {
        let counter = StatementCounter()
        let trigger = Trigger(
            type: type.key, recipients: recipients.map { .subscriber($0) }, payload: ["seq": .number(Double(seq)), "ref": .string(ref)])
        let receipts = try await StatementCounter.$current.withValue(counter) {
            try await engine.triggerBulk([trigger], tenantID: tenantID).0
        }
        if ProcessInfo.processInfo.environment["HERALD_SHOW_STATEMENTS"] != nil { print(counter.lines.joined(separator: "\n")) }
        // From the request's transaction on: reads of the engine's caches before it (the type, the tenant's
        // settings, re-read when their time is up on a slow machine) are not planning's.
        #expect(counter.statements < 100, "\(counter.statements) statements")
        return (counter.lines.drop { $0 != "BEGIN" }.count, receipts[0])
    }

    @Test(
        "a trigger to 1,000 recipients under dedup, a digest and a rate limit plans in as many statements as one to 10",
        arguments: StoreBackend.available.filter { $0 == .postgres })
    func boundedStatements(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend, { $0.eventTypes += [Self.type] })
        let (tenant, _) = try await engine.createTenant(name: "Counted")
        let ids = (0..<1_010).map { "s\($0)" }
        _ = try await engine.upsertSubscribers(tenantID: tenant.id, ids.map { SubscriberInput(id: $0) })
        // The engine caches the type and the tenant's settings on first use: warm them, so each count is planning's alone.
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "warm"))
        _ = try await Self.statements(engine, tenantID: tenant.id, recipients: ["warm"], seq: 0, ref: "warm")
        var counts: [Int: [Int]] = [:]
        for size in [10, 1_000] {
            // Apart from the smaller run's, whose digests stay open.
            let recipients = size == 10 ? Array(ids.prefix(size)) : Array(ids.suffix(size))
            // First of its dedup key: opens a digest per recipient and takes a token.
            let first = try await Self.statements(engine, tenantID: tenant.id, recipients: recipients, seq: 1, ref: "r\(size)")
            #expect(first.receipt.messages == ["queued": size])
            // The same ref again: every message a duplicate.
            let repeated = try await Self.statements(engine, tenantID: tenant.id, recipients: recipients, seq: 2, ref: "r\(size)")
            #expect(repeated.receipt.messages == ["suppressed": size])
            // Another ref: every message merged into the open digest.
            let merged = try await Self.statements(engine, tenantID: tenant.id, recipients: recipients, seq: 3, ref: "other\(size)")
            #expect(merged.receipt.messages == ["merged": size])
            counts[size] = [first.statements, repeated.statements, merged.statements]
        }
        print("[planning statements] 10 recipients: \(counts[10]!), 1,000 recipients: \(counts[1_000]!)")
        #expect(counts[1_000] == counts[10], "statements grow with the recipients")
        #expect(counts[1_000]!.allSatisfy { $0 <= 20 })
    }
}
