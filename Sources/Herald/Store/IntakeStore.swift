import Foundation

/// Taking triggers in: accepting them (with idempotency), reading and cancelling events, and fanning
/// an event out to its topics' members.
public protocol IntakeStore: Sendable {
    // MARK: Events
    /// Stores triggers with their direct recipients' messages and their topics' fan-out jobs, atomically.
    ///
    /// Inline subscribers are upserted first. Unknown subscriber ids or topics throw `invalid` and nothing
    /// is written. With an idempotency claim, a key already used with the same hash replays the stored
    /// receipts, and with another hash throws `conflict`.
    func accept(
        tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?, now: Date
    ) async throws -> AcceptOutcome
    /// Several requests committed together (group commit), each answered on its own: one request's
    /// refusal does not affect the others. A store without a cheaper way accepts them one by one.
    func acceptMany(_ requests: [AcceptRequest], now: Date) async throws -> [Result<AcceptOutcome, any Error>]
    func event(tenantID: String, id: String) async throws -> Event?
    /// Events newest first, optionally of one type.
    func events(tenantID: String, type: String?, cursor: Int64?, limit: Int) async throws -> Page<Event>
    func messageCounts(tenantID: String, eventID: String) async throws -> [String: Int]
    /// Cancels every message of the event that has not gone out, and its pending fan-out; nil when unknown.
    func cancelEvent(tenantID: String, id: String, now: Date) async throws -> Int?
    /// Cancels, as `cancelEvent` does, every event of the tenant triggered with this cancellation key.
    func cancelEvents(tenantID: String, cancellationKey: String, now: Date) async throws -> CancellationResult
    /// The receipts stored under an idempotency claim's key, when its request hash matches (throws `conflict`
    /// when it does not); nil when the key is unused. A read only: ``accept(tenantID:triggers:idempotency:now:)``
    /// still claims the key in its transaction.
    func idempotentReplay(tenantID: String, claim: IdempotencyClaim) async throws -> [TriggerReceipt]?

    // MARK: Attachments (stored by `accept` with their event)
    /// Bytes of files per event, for the events among `eventIDs` that have any.
    func attachmentSizes(eventIDs: [String]) async throws -> [String: Int]
    /// An event's files, in order, with their bytes.
    func eventAttachments(eventID: String) async throws -> [EmailAttachment]
    /// The names, types and sizes of a tenant's event's files.
    func attachmentSummaries(tenantID: String, eventID: String) async throws -> [AttachmentSummary]

    // MARK: Fan-out
    func claimFanoutJob(owner: String, now: Date, leaseUntil: Date) async throws -> FanoutJob?
    /// Plans the next `limit` members of the job's topic and advances its cursor, in one transaction; with
    /// a composer, their in-app messages due now are written delivered, and announced once it commits.
    func fanoutChunk(_ job: FanoutJob, owner: String, limit: Int, now: Date, leaseUntil: Date, inApp: InAppComposer?) async throws -> (
        FanoutJob, FanoutProgress
    )
    /// Raised while a critical write waits, for a store whose writes queue behind each other (``UrgentWrites``);
    /// nil for one whose writers run side by side.
    var urgentWrites: UrgentWrites? { get }
}

extension IntakeStore {
    public var urgentWrites: UrgentWrites? { nil }

    /// The next chunk, with every in-app message left to the dispatcher.
    public func fanoutChunk(_ job: FanoutJob, owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> (FanoutJob, FanoutProgress) {
        try await fanoutChunk(job, owner: owner, limit: limit, now: now, leaseUntil: leaseUntil, inApp: nil)
    }

    public func acceptMany(_ requests: [AcceptRequest], now: Date) async throws -> [Result<AcceptOutcome, any Error>] {
        var results: [Result<AcceptOutcome, any Error>] = []
        for request in requests {
            do {
                results.append(
                    .success(try await accept(tenantID: request.tenantID, triggers: request.triggers, idempotency: request.idempotency, now: now)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}
