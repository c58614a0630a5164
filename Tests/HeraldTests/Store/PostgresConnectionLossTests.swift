import Foundation
import PostgresNIO
import Testing

@testable import Herald

/// A pooled connection the server ends (an operator's `pg_terminate_backend`, a restart, a failover) costs
/// the statement that was running on it, and nothing after.
@Suite("PostgreSQL connections the server ends", .enabled(if: StoreBackend.postgresURL != nil))
struct PostgresConnectionLossTests {
    @Test(
        "the statement after a terminated connection's runs on a live one, though the pool hears of the end only after handing the dead one out again",
        .timeLimit(.minutes(1))
    )
    func nextStatementAfterATermination() async throws {
        // A small pool, used one lease at a time: the next lease is the connection just ended, whenever the pool has not yet
        // heard that it closed.
        let url = try await TestEngine.postgresDatabaseURL().replacingOccurrences(of: "pool_size=6", with: "pool_size=2")
        let store = try await PostgresStore.open(PostgresStore.Configuration(url: url, source: "test"))
        let killer = try await PostgresTestSchemas.connect()
        defer { Task { try? await killer.close() } }
        let logger = store.logger
        for round in 0..<20 {
            // Found by its text: which of the pool's connections it runs on is the pool's choice.
            let sleep = "SELECT pg_sleep(30) /* \(UUID().uuidString) */"
            // A transaction, so that the statement the server ends is not run again (a read would be).
            let sleeper = Task { try await store.write { connection in try await connection.run(PostgresQuery(unsafeSQL: sleep), logger) } }
            var ended = false
            for _ in 0..<500 where !ended {
                let rows = try await killer.query(
                    PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = '\(sleep)'"), logger: logger
                ).collect()
                ended = !rows.isEmpty
                if !ended { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(ended, "round \(round): the sleeper was seen and ended")
            await #expect(throws: (any Error).self, "round \(round): the statement the server ended fails") { try await sleeper.value }
            // A read, or a transaction: its `BEGIN` is the statement that finds the connection ended.
            let answer: Int32 =
                round.isMultiple(of: 2)
                ? try await store.read { connection in try await connection.rows("SELECT 1", logger)[0][0] }
                : try await store.write { connection in try await connection.rows("SELECT 1", logger)[0][0] }
            #expect(answer == 1, "round \(round)")
        }
    }
}
