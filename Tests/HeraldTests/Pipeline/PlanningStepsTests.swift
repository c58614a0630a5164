import Foundation
import Testing

@testable import Herald

/// The steps a store runs to write a planned batch, driven here with made-up rows: no database.
@Suite("PlanningSteps")
struct PlanningStepsTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// Two events of a type with dedup, a digest and a rate limit, to two subscribers each.
    static func events() -> [PlanningEvent] {
        var type = EventType(key: "update", priority: .low, channels: [.inApp])
        type.dedup = DedupSpec(window: "10m", fields: ["ref"])
        type.digest = DigestSpec(window: "1h")
        type.rateLimit = RateLimit(limit: 5, period: "1h")
        type.appliedLimits = RateLimitSettings().applied(to: type)
        let planner = MessagePlanner(eventType: type.plan, preferences: PreferenceResolver(tenantRules: []), dueAt: now, digestKey: "")
        let records = [1, 2].map { RecipientRecord(rowID: $0, subscriber: Subscriber(id: "s\($0)"), rules: []) }
        return ["a", "b"].enumerated().map { index, ref in
            PlanningEvent(
                tenantID: "t", eventPK: Int64(10 + index), plan: type.plan, payload: ["ref": .string(ref)], dueAt: now,
                expiresAt: now.addingTimeInterval(86_400), messages: planner.plan(records))
        }
    }

    /// The columns an insert binds, read back: on SQLite from its values row by row, on PostgreSQL from the
    /// array literal bound for each column (integers and quoted text, as these rows hold).
    static func columns(of statement: SQLStatement, rows: Int, dialect: SQLDialect) throws -> [[SQLValue]] {
        switch dialect {
        case .sqlite:
            #expect(statement.sql.contains("VALUES (?"))
            let width = statement.values.count / rows
            return (0..<width).map { column in (0..<rows).map { statement.values[$0 * width + column] } }
        case .postgres:
            #expect(statement.sql.contains("SELECT * FROM unnest($1::bigint[], $2::text[]"))
            return try statement.values.map { value in
                let literal = try #require(value.text)
                return literal.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false).map { element in
                    if element == "NULL" { return .null }
                    if let number = Int64(element) { return .integer(number) }
                    return .text(String(element.dropFirst().dropLast()))
                }
            }
        }
    }

    /// Rows of one integer each.
    static func ids(_ values: [Int64]) -> [[SQLValue]] { values.map { [.integer($0)] } }

    @Test(
        "a batch is read, reserved, inserted and its state written in a fixed number of statements, rows pointing at reserved ids",
        arguments: [SQLDialect.sqlite, .postgres])
    func stepsOfABatch(_ dialect: SQLDialect) throws {
        var steps = PlanningSteps(events: Self.events(), now: Self.now, dialect: dialect)
        #expect(steps.needsFlowLock)
        // Reads: dedup keys, open digests, buckets; nothing stored yet.
        let reads = try #require(steps.next())
        #expect(reads.count == 3)
        #expect(reads[0].sql.contains("JOIN dedup_keys") && reads[1].sql.contains("JOIN digests") && reads[2].sql.contains("FROM rate_buckets"))
        // The time comes after the four keys (two subscribers, two refs), as SQLite binds in order of appearance.
        #expect(reads[0].sql.hasSuffix(dialect == .sqlite ? "> ?" : "> $17::bigint"))
        #expect(reads[0].values.last == SQLValue(Self.now))
        try steps.take([[], [], []])
        // Ids for four messages and the two digests the first event opens (one per subscriber).
        let reservations = try #require(steps.next())
        #expect(reservations.count == 2)
        #expect(reservations.map(\.values) == [[.integer(4)], [.integer(2)]])
        try steps.take([Self.ids([101, 102, 103, 104]), Self.ids([7, 8])])
        let inserts = try #require(steps.next())
        #expect(inserts.count == 1)
        #expect(inserts[0].sql.contains("RETURNING id"))
        // Twenty columns: the second event's messages merge into the digests opened by the first.
        let columns = try Self.columns(of: inserts[0], rows: 4, dialect: dialect)
        #expect(columns.count == 20)
        #expect(columns[0] == [.integer(101), .integer(102), .integer(103), .integer(104)])
        #expect(columns[6] == [.text("queued"), .text("queued"), .text("merged"), .text("merged")])
        #expect(columns[12] == [.integer(7), .integer(8), .integer(7), .integer(8)], "digest ids")
        #expect(columns[13] == [.null, .null, .integer(101), .integer(102)], "merged items point at the digest's message")
        #expect(columns[14] == Array(repeating: .integer(0), count: 4), "no workflow step")
        #expect(columns[15...18].allSatisfy { $0 == Array(repeating: .null, count: 4) }, "no inbox content: nothing delivered yet")
        #expect(columns[19] == Array(repeating: .integer(0), count: 4))
        // All four went in but the last (already there from an earlier run of the chunk).
        try steps.take([Self.ids([101, 102, 103])])
        let state = try #require(steps.next())
        #expect(state.count == 3)
        #expect(state[0].sql.contains("INSERT INTO digests") && state[1].sql.contains("INSERT INTO dedup_keys"))
        #expect(state[2].sql.contains("INSERT INTO rate_buckets"))
        #expect(state[1].values.count == 3 * 6, "no dedup key for the message that did not go in")
        try steps.take([[], [], []])
        #expect(steps.next() == nil)
        #expect(steps.counts == [["queued": 2], ["merged": 1]])
    }

    @Test("a batch with nothing pointing within it inserts without reserving ids")
    func plainBatch() throws {
        let type = EventType(key: "plain", priority: .medium, channels: [.inApp])
        let planner = MessagePlanner(eventType: type.plan, preferences: PreferenceResolver(tenantRules: []), dueAt: Self.now)
        let records = (1...3).map { RecipientRecord(rowID: Int64($0), subscriber: Subscriber(id: "s\($0)"), rules: []) }
        let event = PlanningEvent(
            tenantID: "t", eventPK: 1, plan: type.plan, payload: [:], dueAt: Self.now, expiresAt: Self.now, messages: planner.plan(records))
        var steps = PlanningSteps(events: [event], now: Self.now, dialect: .postgres)
        #expect(!steps.needsFlowLock)
        #expect(steps.next()?.isEmpty == true, "nothing to read")
        try steps.take([])
        let inserts = try #require(steps.next())
        #expect(inserts.count == 1 && !inserts[0].sql.contains("RETURNING"))
        try steps.take([[]])
        #expect(steps.next()?.isEmpty == true)
        try steps.take([])
        #expect(steps.next() == nil)
        #expect(steps.counts == [["queued": 3]])
    }

    @Test("fewer ids than rows is an error, not a crash")
    func missingIDs() throws {
        var steps = PlanningSteps(events: Self.events(), now: Self.now, dialect: .sqlite)
        try steps.take([[], [], []])
        #expect(throws: PlanningSteps.IdsNotReserved.self) { try steps.take([Self.ids([1]), Self.ids([7, 8])]) }
    }
}


@Suite("SQLDialect row sources")
struct RowSourceTests {
    @Test("PostgreSQL binds one array literal per column; quotes, backslashes, braces and commas in text stay inside their element")
    func arrayLiterals() {
        let rows: [[SQLValue]] = [
            [.integer(1), .text(#"say "hi" \ {a,b}"#), .null],
            [.integer(-2), .text(""), .real(1.5)],
        ]
        let source = SQLDialect.postgres.rowSource(rows, types: [.integer, .text, .real], after: 2)
        #expect(source.sql == "SELECT * FROM unnest($3::bigint[], $4::text[], $5::double precision[]) WHERE true")
        #expect(source.values == [.text("{1,-2}"), .text(#"{"say \"hi\" \\ {a,b}",""}"#), .text("{NULL,1.5}")])
        let sqlite = SQLDialect.sqlite.rowSource(rows, types: [.integer, .text, .real])
        #expect(sqlite.sql == "VALUES (?, ?, ?), (?, ?, ?)")
        #expect(sqlite.values == rows.flatMap { $0 })
    }
}
