import Foundation

/// Advancing a batch of one tenant's runs of one event type, as the steps a store runs in one write
/// transaction: lock the runs (only those this runner still holds) and read what their steps made,
/// let ``WorkflowStepper`` decide each, plan the sends through ``PlanningSteps`` (so a step's messages
/// meet dedup, digests and rate limits as any other), then write every run's new state. Without I/O,
/// like ``PlanningSteps``: both stores drive it with the same loop.
struct WorkflowSteps: TransactionSteps {
    /// An event as its runs need it, read before the transaction (it does not change).
    struct RunEvent: Sendable {
        var id: String
        var type: String
        var plan: EventType
        var payload: [String: JSONValue]
        var expiresAt: Date
        var cancelled: Bool
    }

    private enum Phase {
        case reading
        case locking(planning: PlanningSteps)
        case planning(PlanningSteps)
        case updating
        case done
    }

    let runs: [ClaimedRun]
    let events: [Int64: RunEvent]
    let inputs: PlannerInputs
    let owner: String
    let now: Date
    let dialect: SQLDialect
    private var phase = Phase.reading
    private var pending: [SQLStatement]
    private var updates: [[SQLValue]] = []
    /// Runs that completed or stopped, known once ``next()`` returns nil.
    private(set) var finished: [FinishedRun] = []

    init(runs: [ClaimedRun], events: [Int64: RunEvent], inputs: PlannerInputs, owner: String, now: Date, dialect: SQLDialect) {
        self.runs = runs
        self.events = events
        self.inputs = inputs
        self.owner = owner
        self.now = now
        self.dialect = dialect
        let ids = runs.map { [SQLValue($0.id)] }
        let pairs = runs.map { [SQLValue($0.eventPK), SQLValue($0.subscriberPK)] }
        pending = [
            SQLQuery(
                """
                SELECT id, status, step, steps FROM workflow_runs
                WHERE id IN (SELECT column1 FROM (VALUES \(rows: ids)) AS v WHERE true) AND lease_owner = \(owner)
                ORDER BY id\(sql: dialect.lockingRows)
                """
            ).statement(in: dialect),
            SQLQuery(
                """
                SELECT m.event_pk, m.subscriber_pk, m.step, m.channel, m.status,
                       CASE WHEN m.read_at IS NULL THEN 0 ELSE 1 END, CASE WHEN m.seen_at IS NULL THEN 0 ELSE 1 END,
                       CASE WHEN m.clicked_at IS NULL THEN 0 ELSE 1 END, CASE WHEN m.opened_at IS NULL THEN 0 ELSE 1 END
                FROM (VALUES \(rows: pairs)) AS k JOIN messages m ON m.event_pk = k.column1 AND m.subscriber_pk = k.column2
                WHERE m.step > 0
                """
            ).statement(in: dialect),
            // Read again in the transaction: an event cancelled since it was read must not get this step's messages.
            SQLQuery(
                """
                SELECT pk FROM events WHERE status = \(literal: Event.Status.cancelled.rawValue)
                AND pk IN (SELECT column1 FROM (VALUES \(rows: Array(Set(runs.map(\.eventPK))).map { [SQLValue($0)] })) AS v WHERE true)
                """
            ).statement(in: dialect),
        ]
    }

    func next() -> [SQLStatement]? {
        if case .done = phase { return nil }
        return pending
    }

    mutating func take(_ results: [[[SQLValue]]]) throws {
        switch phase {
        case .reading:
            let cancelled = Set((results.count > 2 ? results[2] : []).compactMap { $0.first?.integer })
            let planning = PlanningSteps(
                events: decide(runRows: results[0], messageRows: results.count > 1 ? results[1] : [], cancelled: cancelled), now: now, dialect: dialect)
            if planning.events.isEmpty {
                update()
            } else if planning.needsFlowLock, let tenantID = runs.first?.tenantID, let lock = dialect.flowLock(tenantID: tenantID) {
                phase = .locking(planning: planning)
                pending = [lock]
            } else {
                plan(planning)
            }
        case .locking(let planning):
            plan(planning)
        case .planning(var planning):
            try planning.take(results)
            plan(planning)
        case .updating:
            phase = .done
            pending = []
        case .done:
            break
        }
    }

    private mutating func plan(_ planning: PlanningSteps) {
        if let statements = planning.next() {
            phase = .planning(planning)
            pending = statements
        } else {
            update()
        }
    }

    private mutating func update() {
        phase = .updating
        pending = SQLQuery.batches(updates, in: dialect).map { rows in
            SQLQuery(
                """
                UPDATE workflow_runs SET status = v.column2, step = v.column3, steps = v.column4, wake_on = v.column5, outcome = v.column6,
                    available_at = v.column7, lease_owner = NULL, updated_at = \(now)
                FROM (VALUES \(rows: rows)) AS v WHERE workflow_runs.id = v.column1
                """
            ).statement(in: dialect)
        }
        if pending.isEmpty { phase = .done }
    }

    /// Decides every run still held, collecting the runs' new rows in ``updates`` and returning the sends to plan.
    private mutating func decide(runRows: [[SQLValue]], messageRows: [[SQLValue]], cancelled: Set<Int64>) -> [PlanningEvent] {
        var messages: [Int64: [Int64: [RunMessage]]] = [:]
        for row in messageRows {
            guard let event = row[0].integer, let subscriber = row[1].integer, let step = row[2].integer,
                let channel = row[3].text.flatMap(ChannelKind.init(rawValue:)), let status = row[4].text.flatMap(MessageStatus.init(rawValue:))
            else { continue }
            messages[event, default: [:]][subscriber, default: []].append(
                RunMessage(
                    step: Int(clamping: step) - 1, channel: channel, status: status, read: row[5].integer == 1, seen: row[6].integer == 1,
                    clicked: row[7].integer == 1, opened: row[8].integer == 1))
        }
        let claimed = Dictionary(runs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var sends: [PlanningEvent] = []
        for row in runRows {
            guard let id = row[0].integer, let run = claimed[id], let status = row[1].text.flatMap(WorkflowRunStatus.init(rawValue:)), status.isOpen,
                let event = events[run.eventPK]
            else { continue }
            let records = row[3].text.flatMap { try? JSONCoding.decoder.decode([WorkflowStepRecord].self, from: Data($0.utf8)) } ?? []
            guard let workflow = event.plan.workflow else { continue }
            guard !event.cancelled, !cancelled.contains(run.eventPK) else {
                stop(
                    id, records: records, as: .cancelled, outcome: "event_cancelled", event: event,
                    subscriber: inputs.recipients[run.subscriberPK]?.subscriber.id)
                continue
            }
            guard let recipient = inputs.recipients[run.subscriberPK] else {
                stop(id, records: records, as: .cancelled, outcome: "subscriber_deleted", event: event, subscriber: nil)
                continue
            }
            let subscriber = recipient.subscriber
            let stepper = WorkflowStepper(
                workflow: workflow,
                context: ConditionContext(payload: event.payload, subscriber: subscriber, priority: event.plan.priority, tenantID: run.tenantID),
                messages: messages[run.eventPK]?[run.subscriberPK] ?? [], timeZone: MessagePlanner.timeZone(of: subscriber))
            let advance = stepper.advance(step: Int(clamping: row[2].integer ?? 0), records: records, now: now) { channel, digest in
                planner(event, digest: digest).plan(recipient, channel)
            }
            for send in advance.sends {
                var planning = PlanningEvent(
                    tenantID: run.tenantID, eventPK: run.eventPK, plan: plan(event, digest: send.digest), payload: event.payload,
                    dueAt: now, expiresAt: event.expiresAt, messages: send.messages)
                planning.step = send.step + 1
                sends.append(planning)
            }
            updates.append([
                SQLValue(id), SQLValue(advance.status.rawValue), SQLValue(advance.step), SQLValue(JSONCoding.encodeText(advance.records)),
                SQLValue(advance.wakeOn?.rawValue), SQLValue(advance.outcome), SQLValue(advance.dueAt ?? event.expiresAt),
            ])
            if advance.status == .completed {
                finished.append(
                    FinishedRun(
                        tenantID: run.tenantID, eventID: event.id, eventType: event.type, subscriberID: subscriber.id, status: .completed,
                        outcome: advance.outcome ?? "finished"))
            }
        }
        return sends
    }

    /// Ends a run that cannot go on (its event cancelled, its subscriber deleted): its remaining steps are skipped.
    private mutating func stop(
        _ id: Int64, records: [WorkflowStepRecord], as status: WorkflowRunStatus, outcome: String, event: RunEvent, subscriber: String?
    ) {
        var records = records
        let total = event.plan.workflow?.steps.count ?? records.count
        for index in 0..<total where index >= records.count || [.waiting, .sending].contains(records[index].status) {
            let record = WorkflowStepRecord(status: .skipped, reason: outcome, at: now)
            if index < records.count { records[index] = record } else { records.append(record) }
        }
        updates.append([
            SQLValue(id), SQLValue(status.rawValue), SQLValue(total), SQLValue(JSONCoding.encodeText(records)), SQLValue(nil as String?),
            SQLValue(outcome), SQLValue(event.expiresAt),
        ])
        finished.append(
            FinishedRun(tenantID: runs.first?.tenantID ?? "", eventID: event.id, eventType: event.type, subscriberID: subscriber ?? "", status: status, outcome: outcome))
    }

    /// The event's plan as a step sends it: with the digest a `digest` step set, or the type's own.
    private func plan(_ event: RunEvent, digest: DigestSpec?) -> EventType {
        var plan = event.plan
        if let digest { plan.digest = digest }
        return plan
    }

    private func planner(_ event: RunEvent, digest: DigestSpec?) -> MessagePlanner {
        let plan = plan(event, digest: digest)
        var type = plan
        type.workflow = nil
        return MessagePlanner(
            eventType: type, preferences: inputs.preferences, email: inputs.email, tenantDestinations: inputs.destinations, dueAt: now,
            digestKey: plan.digest?.digestKey(payload: event.payload))
    }
}
