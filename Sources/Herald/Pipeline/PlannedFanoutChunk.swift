import Foundation

/// The next members of a fan-out job's topic, read and planned (in-app messages rendered) outside the
/// transaction that writes them. ``FanoutWorker`` plans the next chunk while the store writes this one, so on
/// SQLite the reading and rendering run on another core than the one writer; a chunk is written only if its job
/// is still at the cursor it was planned from (``IntakeStore/writeFanoutChunk(_:owner:now:leaseUntil:)``).
public struct PlannedFanoutChunk: Sendable {
    /// The job as planned: its cursor is where this chunk starts.
    public let job: FanoutJob
    let eventPK: Int64
    /// The members' messages in parts, each written whole; a store whose writes queue behind each other
    /// commits after a part when a critical write waits (``UrgentWrites``).
    let parts: [Part]
    /// Whether no member of the topic follows this chunk.
    let endsTopic: Bool
    /// The topic's members (subscriber rows) the chunk was planned for, in row order. It is written only while they
    /// are still the topic's members from its cursor to ``endCursor``: a member deleted since it was planned must get
    /// nothing, and their messages would outlive them (no foreign key ties a message to its subscriber).
    let members: [Int64]

    struct Part: Sendable {
        let event: PlanningEvent
        /// The job's cursor once this part is written: its last member's subscriber row.
        let cursor: Int64
    }

    /// The event's columns a chunk is planned from, as the store read them with the job.
    struct Source {
        let eventPK: Int64
        let plan: EventType
        let sendAt: Date?
        let expiresAt: Date
        let payload: [String: JSONValue]
        let eventID: String
        let eventType: String
        let createdAt: Date?
    }

    /// Plans `records` (the members after the job's cursor, in row order) in parts of `partSize`, with the
    /// tenant's preferences, email settings and destinations. `tenantName` is only read with a composer.
    init(
        job: FanoutJob, source: Source, records: [RecipientRecord], endsTopic: Bool, preferences: PreferenceResolver, email: EmailSettings,
        destinations: Set<ChannelKind>, tenantName: String, inApp: InAppComposer?, partSize: Int, now: Date
    ) {
        let dueAt = source.sendAt ?? now
        let context = EventContext(
            id: source.eventID, tenantID: job.tenantID, tenantName: tenantName, type: source.eventType, payload: source.payload,
            createdAt: source.createdAt ?? now)
        let planner = MessagePlanner(
            eventType: source.plan, preferences: preferences, email: email, tenantDestinations: destinations, dueAt: dueAt,
            digestKey: source.plan.digest?.digestKey(payload: source.payload)
        ).composing(inApp, event: context, now: now)
        self.job = job
        self.eventPK = source.eventPK
        self.endsTopic = endsTopic
        self.members = records.map(\.rowID)
        let size = max(1, partSize)
        self.parts = stride(from: 0, to: records.count, by: size).map { start in
            let part = Array(records[start..<min(start + size, records.count)])
            return Part(
                event: PlanningEvent(
                    tenantID: job.tenantID, eventPK: source.eventPK, plan: source.plan, payload: source.payload, dueAt: dueAt,
                    expiresAt: source.expiresAt, messages: planner.plan(part), workflowRuns: part, inApp: planner.inApp),
                cursor: part.last!.rowID)
        }
    }

    /// The job's cursor once the whole chunk is written: where the next chunk starts.
    public var endCursor: Int64 { parts.last?.cursor ?? job.cursor }

    /// Whether `current`, the topic's members from the job's cursor to ``endCursor`` as the writing transaction reads
    /// them, are still those the chunk was planned for. If not, the chunk is planned again from its cursor.
    func isPlanned(for current: [Int64]) -> Bool { current == members }

    /// This chunk's job after `written` of its parts, and whether that finished the topic.
    func progress(afterWriting written: Int) -> (cursor: Int64, planned: Int, finished: Bool) {
        let done = parts.prefix(written)
        return (done.last?.cursor ?? job.cursor, done.reduce(0) { $0 + $1.event.messages.count }, written == parts.count && endsTopic)
    }
}
