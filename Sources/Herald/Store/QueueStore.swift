import Foundation

/// The message queue: claims and leases for dispatchers, delivery outcomes (retries and dead letters),
/// and the activity log with manual retry.
public protocol QueueStore: Sendable {
    // MARK: Dispatch
    /// Claims up to `limit` due messages, most urgent first, leasing them to `owner` until `leaseUntil`.
    func claimMessages(owner: String, scope: ClaimScope, limit: Int, now: Date, leaseUntil: Date) async throws -> ClaimedBatch
    /// Records outcomes of claimed messages in one transaction. Outcomes for leases the owner no longer
    /// holds are ignored (another dispatcher reclaimed the message). Returns the rows updated.
    func complete(_ outcomes: [DeliveryOutcome], owner: String, now: Date) async throws -> [Int64]
    /// Extends the leases `owner` still holds on `ids` to `until`: the dispatcher's heartbeat while a batch
    /// takes longer than a lease (a slow SMTP server, a webhook near its timeout), so a live node's work is
    /// not taken over while a dead node's is, within one lease. Returns how many leases were extended.
    func renewLeases(owner: String, ids: [Int64], until: Date) async throws -> Int
    /// Called once when a dispatcher starts. A store that can prove this is the only dispatcher (SQLite,
    /// through a lock file) releases the leases a crashed predecessor left, so recovery after `kill -9`
    /// is immediate; others rely on lease expiry. Returns how many leases were released.
    func prepareDispatcher(now: Date) async throws -> Int

    // MARK: Messages
    func messages(tenantID: String, _ query: MessageQuery) async throws -> Page<Message>
    func message(tenantID: String, id: Int64) async throws -> (Message, [DeliveryAttempt])?
    /// Requeues a failed or dead-lettered message with a fresh attempt budget.
    func retryMessage(tenantID: String, id: Int64, now: Date) async throws -> Message?
}
