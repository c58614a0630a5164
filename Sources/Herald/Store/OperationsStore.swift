import Foundation

/// Running Herald: schema and health, admin console sessions, queue depth and delivery stats, and
/// retention.
public protocol OperationsStore: Sendable {
    // MARK: Schema and health
    /// Creates or upgrades the schema. Safe to run when already current.
    func migrate() async throws
    /// Cheap round trip, for readiness checks.
    func ping() async throws

    // MARK: Console sessions
    /// Opens an admin console session for the tenant of the unrevoked API key with this hash, or nil
    /// when there is no such key. `idHash` is the SHA-256 of the session cookie, never the cookie itself.
    func createConsoleSession(apiKeyHash: String, idHash: String, csrfToken: String, now: Date, expiresAt: Date) async throws -> ConsoleSession?
    /// The session with this id hash, unless it has expired or its API key was revoked.
    func consoleSession(idHash: String, now: Date) async throws -> ConsoleSession?
    func deleteConsoleSession(idHash: String) async throws

    // MARK: Queue depth, stats and retention
    func queueDepth(now: Date) async throws -> QueueDepth
    /// The tenant's messages created since `since`, counted by event type, channel and status, and the
    /// trigger → sent latencies (ms) of those that were sent or delivered, sorted ascending.
    func deliveryStats(tenantID: String, since: Date) async throws -> (counts: [StatsCountRow], sortedLatenciesMs: [Double])
    /// Deletes up to `limit` expired rows of each kind.
    func deleteExpired(now: Date, idempotencyCutoff: Date, limit: Int) async throws -> CleanupResult
}
