import Foundation

/// Writing a batch of planned events, as the steps a store runs in its planning transaction: read the
/// flow state the batch needs, let ``FlowPlanner`` decide, reserve ids when rows point at each other,
/// insert the messages, then write the flow state for those that went in. A state machine without I/O:
/// each step hands the store its statements and takes back their rows, so both stores run the same
/// steps (one loop each) and a batch of any size costs a fixed number of statements.
///
/// ```swift
/// var steps = PlanningSteps(events: events, now: now, dialect: .sqlite)
/// while let statements = steps.next() { try steps.take(try statements.map { try run(db, $0) }) }
/// return steps.counts
/// ```
struct PlanningSteps: TransactionSteps {
    private enum Phase {
        case reading([PlanningStatements.Part])
        case reserving(MessageWrites)
        case inserting(MessageWrites, PlanningStatements.Ids?, messageStatements: Int)
        case writingState
        case done
    }

    let events: [PlanningEvent]
    private let now: Date
    private let statements: PlanningStatements
    private var phase: Phase
    private var pending: [SQLStatement] = []
    /// How many messages of each event went in, by status; complete when ``next()`` returns nil.
    private(set) var counts: [[String: Int]] = []
    /// How many workflow runs each event started.
    private(set) var runCounts: [Int] = []
    /// The in-app messages written as delivered that went in (``InAppComposer``), with their ids.
    private(set) var delivered: [(rowID: Int64, row: MessageRow)] = []

    init(events: [PlanningEvent], now: Date, dialect: SQLDialect) {
        self.events = events
        self.now = now
        self.statements = PlanningStatements(dialect: dialect)
        let reads = statements.reads(FlowPlanner.needs(events), now: now)
        phase = .reading(reads.map(\.part))
        pending = reads.map(\.statement)
    }

    /// Whether the batch needs the tenant's flow-control lock (where nodes plan at once).
    var needsFlowLock: Bool { events.contains(where: \.hasFlowControl) }

    /// The statements of the current step, or nil when the batch is written.
    func next() -> [SQLStatement]? {
        if case .done = phase { return nil }
        return pending
    }

    /// The rows of each statement ``next()`` gave, in order.
    mutating func take(_ results: [[[SQLValue]]]) throws {
        switch phase {
        case .reading(let parts):
            var state = FlowState()
            for (part, rows) in zip(parts, results) { state.read(part, rows: rows) }
            let writes = FlowPlanner.decide(events, state: state, now: now)
            let reservations = statements.reservations(writes)
            if let messages = reservations.messages {
                phase = .reserving(writes)
                pending = [messages] + (reservations.digests.map { [$0] } ?? [])
            } else {
                insert(writes, ids: nil)
            }
        case .reserving(let writes):
            let ids = PlanningStatements.Ids(
                messages: results.first?.compactMap { $0.first?.integer } ?? [],
                digests: results.dropFirst().first?.compactMap { $0.first?.integer } ?? [])
            guard ids.messages.count == writes.messages.count, ids.digests.count == writes.digests.count else {
                throw IdsNotReserved(messages: ids.messages.count, digests: ids.digests.count)
            }
            insert(writes, ids: ids)
        case .inserting(let writes, let ids, let messageStatements):
            var started: [Int64: Int] = [:]
            for row in results.dropFirst(messageStatements).joined() { if let event = row.first?.integer { started[event, default: 0] += 1 } }
            runCounts = events.map { event in event.workflowRuns.isEmpty ? 0 : started.removeValue(forKey: event.eventPK) ?? 0 }
            let returned = results.prefix(messageStatements).joined()
            let inserted = Set(returned.compactMap { $0.first?.integer })
            if writes.delivers { delivered = Self.delivered(writes, of: events, returned: returned) }
            if let ids {
                counts = writes.counts(events: events.count) { inserted.contains(ids.messages[$0]) }
            } else {
                // Nothing points at these rows: every one was planned for a new event or chunk, and counts as planned.
                counts = writes.counts(events: events.count)
            }
            phase = .writingState
            pending = statements.writeState(writes, ids: ids, inserted: inserted)
        case .writingState:
            finish()
        case .done:
            break
        }
    }

    /// The rows written as delivered among those `returned` (id, event, subscriber, status).
    private static func delivered(_ writes: MessageWrites, of events: [PlanningEvent], returned: some Sequence<[SQLValue]>) -> [(
        rowID: Int64, row: MessageRow
    )] {
        var written: [InAppSlot: MessageRow] = [:]
        for row in writes.messages where row.inbox != nil {
            written[InAppSlot(eventPK: events[row.event].eventPK, subscriberRowID: row.subscriberRowID)] = row
        }
        return returned.compactMap { values in
            guard values.count >= 4, values[3].text == MessageStatus.delivered.rawValue, let id = values[0].integer,
                let eventPK = values[1].integer, let subscriber = values[2].integer,
                let row = written[InAppSlot(eventPK: eventPK, subscriberRowID: subscriber)]
            else { return nil }
            return (id, row)
        }
    }

    /// One in-app message of a batch: an event has at most one per subscriber.
    private struct InAppSlot: Hashable {
        var eventPK: Int64
        var subscriberRowID: Int64
    }

    /// The database gave fewer ids than the batch has rows.
    struct IdsNotReserved: Error {
        var messages: Int
        var digests: Int
    }

    private mutating func insert(_ writes: MessageWrites, ids: PlanningStatements.Ids?) {
        let messages = statements.insertMessages(writes, of: events, ids: ids, now: now)
        phase = .inserting(writes, ids, messageStatements: messages.count)
        pending = messages + statements.insertRuns(events, now: now)
    }

    private mutating func finish() {
        phase = .done
        pending = []
    }
}

extension TriggerReceipt {
    /// What planning wrote for the batch's event at `event`: its messages by status, and the runs it started.
    mutating func record(_ steps: PlanningSteps, event: Int) {
        messages = steps.counts[event]
        if !steps.events[event].workflowRuns.isEmpty { workflowRuns = steps.runCounts[event] }
    }
}
