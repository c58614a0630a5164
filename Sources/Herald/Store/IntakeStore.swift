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
    /// Reads and plans the next `limit` members of the job's topic after `job.cursor`, writing nothing; with a
    /// composer, their in-app messages due now are rendered. Nil when the job is no longer pending.
    func planFanoutChunk(_ job: FanoutJob, limit: Int, now: Date, inApp: InAppComposer?) async throws -> PlannedFanoutChunk?
    /// Writes a planned chunk and advances its job's cursor, in one transaction, if `owner` still holds the job
    /// its cursor is where the chunk was planned from, and the topic's members in the chunk's range are those it was
    /// planned for (``PlannedFanoutChunk/isPlanned(for:)``); in-app messages written delivered are announced once it
    /// commits. A job no longer held answers finished with nothing planned; a job whose cursor moved, or whose
    /// members changed, answers ``FanoutProgress/moved`` with its cursor, to be planned again from there.
    func writeFanoutChunk(_ chunk: PlannedFanoutChunk, owner: String, now: Date, leaseUntil: Date) async throws -> (FanoutJob, FanoutProgress)
    /// Raised while a critical write waits, for a store whose writes queue behind each other (``UrgentWrites``);
    /// nil for one whose writers run side by side.
    var urgentWrites: UrgentWrites? { get }
}

extension IntakeStore {
    public var urgentWrites: UrgentWrites? { nil }

    /// Plans and writes the next `limit` members of the job's topic (planned again if the job's cursor moved
    /// meanwhile); with a composer, their in-app messages due now are written delivered.
    public func fanoutChunk(_ job: FanoutJob, owner: String, limit: Int, now: Date, leaseUntil: Date, inApp: InAppComposer? = nil) async throws
        -> (FanoutJob, FanoutProgress)
    {
        var job = job
        while true {
            guard let chunk = try await planFanoutChunk(job, limit: limit, now: now, inApp: inApp) else {
                return (job, FanoutProgress(planned: 0, finished: true))
            }
            let (written, progress) = try await writeFanoutChunk(chunk, owner: owner, now: now, leaseUntil: leaseUntil)
            guard progress.moved else { return (written, progress) }
            job = written
        }
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
