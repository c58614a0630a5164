import Foundation

/// Everything Herald keeps, behind one protocol so the engine runs unchanged on SQLite or PostgreSQL.
///
/// Each method is one transaction. Hot paths take and return batches: claims, delivery outcomes,
/// fan-out chunks. Methods scoped to a tenant never see another tenant's rows; a miss is `nil` or
/// `false`, never an error that tells the caller the row exists elsewhere.
public protocol Store: Sendable {
    /// Creates or upgrades the schema. Safe to run when already current.
    func migrate() async throws
    /// Cheap round trip, for readiness checks.
    func ping() async throws

    // MARK: Settings
    /// Returns the stored value for `key`, storing `value` first if there is none (first writer wins).
    func setting(_ key: String, default value: String) async throws -> String

    /// A tenant's settings document under `key` (`email` …), as JSON text, or nil when never set.
    func tenantSetting(tenantID: String, key: String) async throws -> String?
    /// Stores or (with nil) removes a tenant's settings document.
    func putTenantSetting(tenantID: String, key: String, value: String?) async throws
    /// Every tenant's settings document under one key, by tenant id.
    func tenantSettings(key: String) async throws -> [String: String]
    /// Reads, changes and writes a tenant's settings document in one transaction, so a change made by
    /// the server (a webhook endpoint disabled after `410 Gone`) cannot undo a concurrent `PUT`. `update`
    /// gets the stored JSON (nil when unset) and returns what to store (nil removes it) and a result to
    /// hand back; a throw leaves the document as it was.
    func updateTenantSetting<T: Sendable>(
        tenantID: String, key: String, _ update: @escaping @Sendable (String?) throws -> (value: String?, result: T)
    ) async throws -> T

    // MARK: Tenants and keys
    func createTenant(name: String, key: IssuedKeyMaterial) async throws -> (Tenant, APIKeyInfo)
    func tenant(id: String) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    /// The tenant owning a key with this hash, unless the key is revoked.
    func tenant(apiKeyHash: String) async throws -> Tenant?
    func addAPIKey(tenantID: String, key: IssuedKeyMaterial) async throws -> APIKeyInfo
    func apiKeys(tenantID: String) async throws -> [APIKeyInfo]
    func revokeAPIKey(tenantID: String, keyID: String) async throws -> Bool

    // MARK: Catalog
    /// The tenant's own event types (overrides of the file catalog), and keys the tenant deleted.
    func tenantEventTypes(tenantID: String) async throws -> (defined: [EventType], deleted: Set<String>)
    func tenantEventType(tenantID: String, key: String) async throws -> TenantEventTypeEntry?
    func putEventType(tenantID: String, _ eventType: EventType) async throws
    /// Removes the tenant's definition; with `tombstone`, also hides a file-defined type of that key.
    func deleteEventType(tenantID: String, key: String, tombstone: Bool) async throws

    // MARK: Subscribers and preferences
    func upsertSubscriber(tenantID: String, _ input: SubscriberInput) async throws -> (Subscriber, created: Bool)
    func subscriber(tenantID: String, id: String) async throws -> Subscriber?
    func subscribers(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Subscriber>
    /// Upserts many subscribers in one transaction; returns how many were new.
    func upsertSubscribers(tenantID: String, _ inputs: [SubscriberInput]) async throws -> Int
    func deleteSubscriber(tenantID: String, id: String) async throws -> Bool
    /// The subscriber's own rules, or nil when there is no such subscriber.
    func preferences(tenantID: String, subscriberID: String) async throws -> [PreferenceRule]?
    /// Sets rules (replacing all of them when `replace`); false when there is no such subscriber.
    func setPreferences(tenantID: String, subscriberID: String, _ rules: [PreferenceRule], replace: Bool) async throws -> Bool
    func tenantPreferences(tenantID: String) async throws -> [PreferenceRule]
    func setTenantPreferences(tenantID: String, _ rules: [PreferenceRule], replace: Bool) async throws

    // MARK: Topics
    func upsertTopic(tenantID: String, key: String, name: String?) async throws -> Topic
    func topic(tenantID: String, key: String) async throws -> Topic?
    func topics(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Topic>
    func deleteTopic(tenantID: String, key: String) async throws -> Bool
    /// Adds members given by id (which must exist) or inline (upserted first), in one transaction; throws
    /// `invalid` naming unknown subscriber ids, and writes nothing then.
    func addTopicMembers(tenantID: String, topic: String, members: [Recipient]) async throws -> Int
    func removeTopicMembers(tenantID: String, topic: String, subscriberIDs: [String]) async throws -> Int
    func topicMembers(tenantID: String, topic: String, cursor: Int64?, limit: Int) async throws -> Page<String>?

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

    // MARK: Digests
    /// Closes the digest (later items start a new one) and returns its items in arrival order, leaving
    /// out cancelled ones. Called for the digest's message each time it is tried, with the same answer.
    func digestItems(digestID: Int64, now: Date) async throws -> [DigestItem]

    // MARK: Schedules
    func createSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule
    func schedule(tenantID: String, id: String) async throws -> Schedule?
    func schedules(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Schedule>
    /// Replaces a schedule's definition (and its next run); nil when unknown.
    func updateSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule?
    func deleteSchedule(tenantID: String, id: String) async throws -> Bool
    /// Leases up to `limit` enabled schedules whose next run is due, to `owner` until `leaseUntil`.
    func claimDueSchedules(owner: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [Schedule]
    /// Records a run of a claimed schedule: the occurrence it ran (`ranAt`), the event it made (or the
    /// error), and its next run. Ignored unless `owner` still holds the lease; returns whether it was recorded.
    func finishScheduleRun(
        tenantID: String, id: String, owner: String, ranAt: Date, eventID: String?, error: String?, nextRunAt: Date, now: Date
    ) async throws -> Bool

    // MARK: Fan-out
    func claimFanoutJob(owner: String, now: Date, leaseUntil: Date) async throws -> FanoutJob?
    /// Plans the next `limit` members of the job's topic and advances its cursor, in one transaction.
    func fanoutChunk(_ job: FanoutJob, owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> (FanoutJob, FanoutProgress)

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

    // MARK: Inbox
    func inbox(tenantID: String, subscriberID: String, filter: InboxFilter, cursor: Int64?, limit: Int) async throws -> Page<InboxItem>
    func inboxCounts(tenantID: String, subscriberID: String) async throws -> InboxCounts
    /// Inbox items delivered after `position`, oldest first (archived ones included): what a live
    /// connection has not been sent yet.
    func inboxSince(tenantID: String, subscriberID: String, after position: InboxPosition, limit: Int) async throws -> [InboxItem]
    /// The position of the newest delivered inbox item (``InboxPosition/start`` for an empty inbox).
    func inboxPosition(tenantID: String, subscriberID: String) async throws -> InboxPosition
    func markRead(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool
    func markAllRead(tenantID: String, subscriberID: String, now: Date) async throws -> Int
    func markAllSeen(tenantID: String, subscriberID: String, now: Date) async throws -> Int
    func archive(tenantID: String, subscriberID: String, messageID: Int64, now: Date) async throws -> Bool
    /// The subscriber's in-app messages whose `read_at` is exactly `at`: those a read or read-all made then.
    func messagesRead(tenantID: String, subscriberID: String, at: Date) async throws -> [Message]

    // MARK: Status webhooks
    /// Queues status events for their endpoints, due at once.
    func enqueueStatusWebhooks(_ deliveries: [StatusWebhookDelivery], now: Date) async throws
    /// Claims up to `limit` due status webhooks, oldest first, leasing them to `owner` until `leaseUntil`.
    func claimStatusWebhooks(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [StatusWebhookDelivery]
    /// Records what came of claimed status webhooks, in one transaction; rows whose lease `owner` lost are left alone.
    func finishStatusWebhooks(_ results: [StatusWebhookResult], owner: String, now: Date) async throws
    /// Status webhooks by state (`pending`, `delivered`, `failed`) for a tenant's endpoint URLs.
    func statusWebhookCounts(tenantID: String) async throws -> [String: [String: Int]]
    /// Deletes delivered and failed status webhooks finished before `before`; returns how many.
    func deleteFinishedStatusWebhooks(before: Date, limit: Int) async throws -> Int

    // MARK: Console sessions
    /// Opens an admin console session for the tenant of the unrevoked API key with this hash, or nil
    /// when there is no such key. `idHash` is the SHA-256 of the session cookie, never the cookie itself.
    func createConsoleSession(apiKeyHash: String, idHash: String, csrfToken: String, now: Date, expiresAt: Date) async throws -> ConsoleSession?
    /// The session with this id hash, unless it has expired or its API key was revoked.
    func consoleSession(idHash: String, now: Date) async throws -> ConsoleSession?
    func deleteConsoleSession(idHash: String) async throws

    // MARK: Operations
    func queueDepth(now: Date) async throws -> QueueDepth
    /// The tenant's messages created since `since`, counted by event type, channel and status, and the
    /// trigger → sent latencies (ms) of those that were sent or delivered, sorted ascending.
    func deliveryStats(tenantID: String, since: Date) async throws -> (counts: [StatsCountRow], sortedLatenciesMs: [Double])
    /// Deletes up to `limit` expired rows of each kind.
    func deleteExpired(now: Date, idempotencyCutoff: Date, limit: Int) async throws -> CleanupResult

    // MARK: Nodes
    /// Whether other processes may work on this database at once (PostgreSQL), so wake-ups and live
    /// inbox changes have to reach them.
    var isShared: Bool { get }
    /// Tells the other nodes (PostgreSQL `NOTIFY`); a store no other node uses has no one to tell.
    func broadcast(_ signal: ClusterSignal) async throws
    /// Hands other nodes' signals to `receive` until cancelled or the connection fails (PostgreSQL
    /// `LISTEN` on a connection of its own); a store no other node uses returns at once.
    func listen(_ receive: @escaping @Sendable (ClusterSignal) async -> Void) async throws
}

/// A new API key's stored parts: id, hash and display prefix (never the secret).
public struct IssuedKeyMaterial: Sendable, Hashable {
    public var id: String
    public var hash: String
    public var prefix: String
    public var name: String?

    public init(id: String, hash: String, prefix: String, name: String?) {
        self.id = id
        self.hash = hash
        self.prefix = prefix
        self.name = name
    }
}

/// A tenant's stored event-type row: a definition, or a tombstone hiding a file-defined type.
public enum TenantEventTypeEntry: Sendable, Hashable {
    case defined(EventType)
    case deleted
}

extension Store {
    public var isShared: Bool { false }
    public func broadcast(_ signal: ClusterSignal) async throws {}
    public func listen(_ receive: @escaping @Sendable (ClusterSignal) async -> Void) async throws {}

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
