import Crypto
import Foundation

extension HeraldEngine {
    /// The most triggers one bulk request may carry.
    public static let bulkLimit = 1000
    /// The most recipients one trigger may name directly (topics can hold millions).
    public static let recipientLimit = 1000

    /// Validates and stores a trigger: its direct recipients' messages are planned in the same transaction,
    /// topics are fanned out afterwards. When it returns, the event is durable.
    ///
    /// With an idempotency key, repeating the same trigger returns the first receipt (`replayed`), and
    /// reusing the key for a different trigger throws `conflict`.
    public func trigger(_ trigger: Trigger, tenantID: String, idempotencyKey: String? = nil) async throws -> (TriggerReceipt, replayed: Bool) {
        let (receipts, replayed) = try await accept([trigger], tenantID: tenantID, idempotencyKey: idempotencyKey, bulk: false)
        return (receipts[0], replayed)
    }

    /// Up to 1,000 triggers in one transaction: all are accepted, or none (the error names each bad one).
    public func triggerBulk(_ triggers: [Trigger], tenantID: String, idempotencyKey: String? = nil) async throws -> ([TriggerReceipt], replayed: Bool)
    {
        guard !triggers.isEmpty else { throw HeraldError.invalid("events", "must hold at least one event") }
        guard triggers.count <= Self.bulkLimit else {
            throw HeraldError.invalid("events", "holds \(triggers.count) events; the limit is \(Self.bulkLimit)")
        }
        return try await accept(triggers, tenantID: tenantID, idempotencyKey: idempotencyKey, bulk: true)
    }

    private func accept(_ triggers: [Trigger], tenantID: String, idempotencyKey: String?, bulk: Bool) async throws -> (
        [TriggerReceipt], replayed: Bool
    ) {
        let now = clock.now()
        var prepared: [PreparedTrigger] = []
        var errors: [FieldError] = []
        var eventTypes: [String: EventType?] = [:]
        var limits: RateLimitSettings?
        var intake = AttachmentIntake(limits: configuration.attachments, client: http)
        // A repeated request whose files are fetched from URLs is answered before they are fetched again: the
        // first answer stands even if a URL has gone since.
        if triggers.contains(where: { $0.attachments.contains { $0.url != nil } }),
            let claim = try idempotencyClaim(idempotencyKey, triggers: triggers, bulk: bulk),
            let receipts = try await store.idempotentReplay(tenantID: tenantID, claim: claim)
        {
            return (receipts, true)
        }
        for (index, original) in triggers.enumerated() {
            var trigger = original
            // A delay becomes a send time now, so a retried request does not push the send further out.
            if let delay = trigger.delay {
                if trigger.sendAt != nil {
                    let error = FieldError("delay", "give send_at or delay, not both")
                    errors += bulk ? [error].prefixed("events[\(index)]") : [error]
                    continue
                }
                guard let seconds = DurationText.seconds(delay) else {
                    let error = FieldError("delay", "'\(delay)' is not a duration like 90s, 15m, 2h or 1d")
                    errors += bulk ? [error].prefixed("events[\(index)]") : [error]
                    continue
                }
                trigger.sendAt = now.addingTimeInterval(seconds)
            }
            if eventTypes[trigger.type] == nil {
                eventTypes[trigger.type] = .some(try await catalog.eventType(tenantID: tenantID, key: trigger.type))
            }
            // Routing in the catalog: a trigger without recipients goes to the type's audience.
            if trigger.recipients.isEmpty, let audience = (eventTypes[trigger.type] ?? nil)?.audience {
                let problems = audience.problems(payload: trigger.payload)
                if !problems.isEmpty {
                    errors += bulk ? problems.prefixed("events[\(index)]") : problems
                    continue
                }
                trigger.recipients = audience.recipients(payload: trigger.payload)
            }
            let problems = Self.problems(trigger, eventType: eventTypes[trigger.type] ?? nil, now: now, policy: configuration.outbound.policy)
            if !problems.isEmpty {
                errors += bulk ? problems.prefixed("events[\(index)]") : problems
                continue
            }
            var eventType = (eventTypes[trigger.type] ?? nil)!
            // Files are fetched and checked now, once: every recipient and every retry sends what is stored.
            let attachments: [EmailAttachment]
            do {
                attachments = try await intake.files(for: trigger, eventType: eventType, field: bulk ? "events[\(index)].attachments" : "attachments")
            } catch {
                if case .invalid(let problems) = error { errors += problems }
                continue
            }
            // The limits in force now go with the event (critical types have none), whatever a stored definition says.
            eventType.appliedLimits = []
            if eventType.priority != .critical {
                if limits == nil { limits = try await effectiveRateLimits(tenantID: tenantID) }
                eventType.appliedLimits = limits!.applied(to: eventType)
            }
            let retention = Double(eventType.retentionDays ?? configuration.retentionDays) * 86_400
            let expiresAt = (trigger.sendAt ?? now).addingTimeInterval(retention)
            var ready = PreparedTrigger(
                eventID: Identifier.make("ev", at: now), trigger: trigger, eventType: eventType, expiresAt: expiresAt, attachments: attachments)
            ready.inApp = inAppComposer(for: eventType)
            prepared.append(ready)
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }

        let claim = try idempotencyClaim(idempotencyKey, triggers: triggers, bulk: bulk)
        // Single triggers from concurrent requests share a transaction; a bulk request is its own.
        let outcome =
            bulk
            ? try await store.accept(tenantID: tenantID, triggers: prepared, idempotency: claim, now: now)
            : try await committer.accept(AcceptRequest(tenantID: tenantID, triggers: prepared, idempotency: claim))
        switch outcome {
        case .accepted(let receipts):
            signal.ring(prepared.reduce(into: WakeSignal.Work()) { $0.formUnion($1.work) })
            for trigger in prepared { metrics.recordEventAccepted(priority: trigger.eventType.priority) }
            return (receipts, false)
        case .replayed(let receipts):
            return (receipts, true)
        }
    }

    /// The claim an `Idempotency-Key` makes: the key and a hash of the request as given.
    private func idempotencyClaim(_ key: String?, triggers: [Trigger], bulk: Bool) throws -> IdempotencyClaim? {
        guard let key else { return nil }
        guard !key.isEmpty, key.count <= 255 else { throw HeraldError.invalid("Idempotency-Key", "must be 1 to 255 characters") }
        let body = bulk ? JSONCoding.encode(triggers) : JSONCoding.encode(triggers[0])
        return IdempotencyClaim(key: (bulk ? "bulk:" : "event:") + key, requestHash: SHA256.hash(data: body).hexString)
    }

    /// Everything wrong with one trigger, before anything is written.
    static func problems(_ trigger: Trigger, eventType: EventType?, now: Date, policy: DestinationPolicy) -> [FieldError] {
        var errors: [FieldError] = []
        guard let eventType else {
            return [FieldError("type", "'\(trigger.type)' is not an event type of this tenant")]
        }
        if trigger.recipients.isEmpty {
            errors.append(
                FieldError(
                    "recipients",
                    eventType.audience == nil
                        ? "must name at least one subscriber or topic (or give the event type an audience)"
                        : "must name at least one subscriber or topic: the event type's audience found none in this payload"))
        }
        if let key = trigger.cancellationKey, key.isEmpty || key.count > 255 {
            errors.append(FieldError("cancellation_key", "must be 1 to 255 characters"))
        }
        if trigger.recipients.count > recipientLimit {
            errors.append(
                FieldError("recipients", "names \(trigger.recipients.count) recipients; the limit is \(recipientLimit) (use a topic for more)"))
        }
        for (index, recipient) in trigger.recipients.enumerated() {
            switch recipient {
            case .subscriber(let id) where id.isEmpty:
                errors.append(FieldError("recipients[\(index)]", "a subscriber id must not be empty"))
            case .inline(let input):
                errors += SubscriberValidator.problems(input, policy: policy).prefixed("recipients[\(index)]")
            case .topic(let key) where !isValidTopicKey(key):
                errors.append(FieldError("recipients[\(index)].topic", "'\(key)' is not a valid topic key"))
            default: break
            }
        }
        errors += EventTypeValidator.payloadProblems(trigger.payload, for: eventType)
        if let sendAt = trigger.sendAt, sendAt.timeIntervalSince(now) > 366 * 86_400 {
            errors.append(FieldError("send_at", "must be within a year from now"))
        }
        if let actor = trigger.actor, actor.count > 256 { errors.append(FieldError("actor", "must be at most 256 characters")) }
        return errors
    }

    /// The tenant's events, newest first.
    public func events(tenantID: String, type: String?, cursor: String?, limit: Int) async throws -> Page<Event> {
        try await store.events(tenantID: tenantID, type: type, cursor: try Cursor.decode(cursor), limit: limit)
    }

    /// An event with its message counts and the first page of its messages.
    public func eventDetails(tenantID: String, id: String, cursor: String? = nil, limit: Int = 100) async throws -> EventDetails {
        guard let event = try await store.event(tenantID: tenantID, id: id) else { throw HeraldError.notFound("event '\(id)'") }
        let counts = try await store.messageCounts(tenantID: tenantID, eventID: id)
        let page = try await store.messages(tenantID: tenantID, MessageQuery(eventID: id, cursor: try Cursor.decode(cursor), limit: limit))
        var details = EventDetails(event: event, counts: counts, messages: page.items, nextCursor: page.nextCursor)
        details.attachments = try await store.attachmentSummaries(tenantID: tenantID, eventID: id)
        let runCounts = try await store.workflowRunCounts(tenantID: tenantID, eventID: id)
        if !runCounts.isEmpty {
            let runs = try await store.workflowRuns(tenantID: tenantID, eventID: id, subscriberID: nil, cursor: nil, limit: 100)
            details.workflow = EventDetails.WorkflowRuns(counts: runCounts, runs: runs?.items ?? [], nextCursor: runs?.nextCursor)
        }
        return details
    }

    /// How many of the event's runs stand in each status, and completed ones by outcome (`completed.read`).
    public func workflowRunCounts(tenantID: String, eventID: String) async throws -> [String: Int] {
        try await store.workflowRunCounts(tenantID: tenantID, eventID: eventID)
    }

    /// `GET /v1/events/{id}/runs`: the event's workflow runs, a page at a time, or one subscriber's.
    public func workflowRuns(tenantID: String, eventID: String, subscriberID: String?, cursor: String?, limit: Int) async throws -> Page<WorkflowRun> {
        guard
            let page = try await store.workflowRuns(
                tenantID: tenantID, eventID: eventID, subscriberID: subscriberID, cursor: try Cursor.decode(cursor), limit: limit)
        else { throw HeraldError.notFound("event '\(eventID)'") }
        return page
    }

    /// Cancels every pending message of the tenant's events triggered with `cancellationKey`.
    public func cancelEvents(tenantID: String, cancellationKey: String) async throws -> CancellationResult {
        guard !cancellationKey.isEmpty, cancellationKey.count <= 255 else {
            throw HeraldError.invalid("cancellation_key", "must be 1 to 255 characters")
        }
        return try await store.cancelEvents(tenantID: tenantID, cancellationKey: cancellationKey, now: clock.now())
    }

    /// Cancels what has not gone out yet; returns how many messages that stopped.
    public func cancelEvent(tenantID: String, id: String) async throws -> Int {
        guard let cancelled = try await store.cancelEvent(tenantID: tenantID, id: id, now: clock.now()) else {
            throw HeraldError.notFound("event '\(id)'")
        }
        return cancelled
    }
}

/// `GET /v1/events/{id}`: the event, its messages by status, and its messages with their states and reasons.
public struct EventDetails: Sendable, Encodable {
    public var event: Event
    public var counts: [String: Int]
    public var messages: [Message]
    public var nextCursor: String?
    /// For an event type with a workflow: each recipient's run, step by step.
    public var workflow: WorkflowRuns?
    /// The files its emails carry: names, types and sizes, not the bytes.
    public var attachments: [AttachmentSummary] = []

    /// The runs of an event's workflow: how many stand where, and the first page of them.
    public struct WorkflowRuns: Sendable, Encodable {
        /// Runs by status (`waiting`, `completed` …), and completed ones by outcome (`completed.read`).
        public var counts: [String: Int]
        public var runs: [WorkflowRun]
        /// More runs: `GET /v1/events/{id}/runs?cursor=`.
        public var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case counts, runs
            case nextCursor = "next_cursor"
        }
    }

    enum CodingKeys: String, CodingKey {
        case counts, messages, workflow, attachments
        case nextCursor = "next_cursor"
    }

    public func encode(to encoder: any Encoder) throws {
        try event.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(counts, forKey: .counts)
        try container.encode(messages, forKey: .messages)
        try container.encodeIfPresent(nextCursor, forKey: .nextCursor)
        try container.encodeIfPresent(workflow, forKey: .workflow)
        if !attachments.isEmpty { try container.encode(attachments, forKey: .attachments) }
    }
}
