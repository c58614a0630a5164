import Foundation

/// Decides a run's next steps: pure, so every path (a condition, a wait cut short by a read, a fallback
/// after a 550) is tested without a database, and the store writes what it returns in the transaction
/// that read the run.
///
/// A call takes the run from where it stands as far as it can go without waiting for the world: it
/// skips steps whose condition is false, records digests, plans sends, and stops at a wait (until its
/// end, or what it waits for), at a `first_success` message that has not finished, or at a step whose
/// condition reads what the sends just planned can still change (it is decided when the run is next due).
public struct WorkflowStepper: Sendable {
    public var workflow: Workflow
    /// The run's recipient, event and earlier messages, for conditions; `steps` is filled in here.
    public var context: ConditionContext
    /// The messages the run's steps made so far.
    public var messages: [RunMessage]
    public var timeZone: TimeZone

    public init(workflow: Workflow, context: ConditionContext, messages: [RunMessage], timeZone: TimeZone) {
        self.workflow = workflow
        self.context = context
        self.messages = messages
        self.timeZone = timeZone
    }

    /// A send the run makes: the messages of one step, planned by ``MessagePlanner`` as any other.
    public struct Send: Sendable, Hashable {
        public var step: Int
        public var messages: [PlannedMessage]
        /// The digest a `digest` step before it set, which its messages go into.
        public var digest: DigestSpec?
    }

    /// What the run becomes.
    public struct Advance: Sendable {
        public var status: WorkflowRunStatus
        /// The step the run stands at (the count of steps when it is completed).
        public var step: Int
        public var records: [WorkflowStepRecord]
        /// When the run is next due: the end of a wait, now (to continue), or nil when it waits only for a message.
        public var dueAt: Date?
        /// What ends the wait it stands in early.
        public var wakeOn: WaitSpec.Until?
        public var sends: [Send]
        /// How a completed run ended: `finished`, or what cut its wait short (`read` …).
        public var outcome: String?
    }

    /// Advances a run that stands at `step` with `records`. `plan` plans one channel of a step the way
    /// the event's other messages are planned (preferences, quiet hours, addresses), with the step's digest.
    public func advance(
        step start: Int, records: [WorkflowStepRecord], now: Date, plan: (ChannelKind, DigestSpec?) -> PlannedMessage
    ) -> Advance {
        var records = records
        var sends: [Send] = []
        var planned = messages
        var index = start
        func result(_ status: WorkflowRunStatus, dueAt: Date?, wakeOn: WaitSpec.Until? = nil, outcome: String? = nil) -> Advance {
            Advance(status: status, step: index, records: records, dueAt: dueAt, wakeOn: wakeOn, sends: sends, outcome: outcome)
        }
        func set(_ record: WorkflowStepRecord, at position: Int) {
            while records.count <= position { records.append(WorkflowStepRecord(status: .skipped, reason: "not_reached", at: now)) }
            records[position] = record
        }
        /// Ends the run because what a wait waited for happened: the rest is not needed.
        func endEarly(_ until: WaitSpec.Until) -> Advance {
            set(WorkflowStepRecord(status: .done, reason: "\(until.rawValue)_before_wait_ended", at: now), at: index)
            for later in (index + 1)..<max(index + 1, workflow.steps.count) {
                set(WorkflowStepRecord(status: .skipped, reason: "\(until.rawValue)_before_wait_ended", at: now), at: later)
            }
            index = workflow.steps.count
            return result(.completed, dueAt: nil, outcome: until.rawValue)
        }

        while index < workflow.steps.count {
            let step = workflow.steps[index]
            let record = index < records.count ? records[index] : nil
            switch (step.action, record?.status) {
            case (.wait(let wait), .waiting?):
                if let until = wait.until, happened(until, in: planned) { return endEarly(until) }
                guard let end = record?.until, now < end else {
                    set(WorkflowStepRecord(status: .done, reason: "waited", at: now, until: record?.until), at: index)
                    index += 1
                    continue
                }
                return result(.waiting, dueAt: end, wakeOn: wait.until)
            case (.send(let channels, _), .sending?):
                let tried = record?.channels ?? []
                guard let channel = tried.last, let message = planned.last(where: { $0.step == index && $0.channel == channel }) else {
                    // The message is not there (removed by retention): nothing more can come of this step.
                    set(WorkflowStepRecord(status: .failed, reason: "message_missing", at: now, channels: tried), at: index)
                    index += 1
                    continue
                }
                if message.delivered {
                    set(WorkflowStepRecord(status: .done, reason: "\(channel.rawValue)_\(message.status.rawValue)", at: now, channels: tried), at: index)
                    index += 1
                    continue
                }
                guard message.failed else { return result(.sending, dueAt: nil) }
                let remaining = channels.drop { $0 != channel }.dropFirst()
                if let outcome = firstSuccess(Array(remaining), tried: tried, step: index, now: now, plan: plan, sends: &sends, planned: &planned) {
                    set(outcome, at: index)
                    if outcome.status == .sending { return result(.sending, dueAt: nil) }
                }
                index += 1
                continue
            case (_, .some):
                // Decided before (done, skipped, failed): a run resumed after a crash goes on from the next.
                index += 1
                continue
            case (_, nil):
                break
            }
            if let condition = step.condition {
                if !sends.isEmpty {
                    // The messages just planned may still change what this condition reads; decide it when next due.
                    return result(.active, dueAt: now)
                }
                var context = context
                context.steps = stepOutcomes(records: records, messages: planned, upTo: index)
                context.read = planned.contains(where: \.read)
                context.seen = planned.contains(where: \.seen)
                context.clicked = planned.contains(where: \.clicked)
                context.delivered = planned.contains(where: \.delivered)
                context.opened = planned.contains(where: \.opened)
                if !condition.evaluate(context) {
                    set(WorkflowStepRecord(status: .skipped, reason: "condition_false", at: now), at: index)
                    index += 1
                    continue
                }
            }
            switch step.action {
            case .wait(let wait):
                if let until = wait.until, happened(until, in: planned) { return endEarly(until) }
                let end = wait.end(from: now, timeZone: timeZone) ?? now
                set(WorkflowStepRecord(status: .waiting, at: now, until: end), at: index)
                return result(.waiting, dueAt: end, wakeOn: wait.until)
            case .digest:
                set(WorkflowStepRecord(status: .done, reason: "digest_set", at: now), at: index)
                index += 1
            case .send(let channels, .all):
                let digest = currentDigest(before: index, records: records)
                let messages = channels.map { plan($0, digest) }
                sends.append(Send(step: index, messages: messages, digest: digest))
                planned += messages.map { RunMessage(step: index, channel: $0.channel, status: $0.status) }
                let queued = messages.filter { $0.status == .queued }.map(\.channel)
                set(
                    WorkflowStepRecord(
                        status: queued.isEmpty ? .failed : .done, reason: queued.isEmpty ? Self.reasons(messages) : nil, at: now, channels: channels),
                    at: index)
                index += 1
            case .send(let channels, .firstSuccess):
                if let outcome = firstSuccess(channels, tried: [], step: index, now: now, plan: plan, sends: &sends, planned: &planned) {
                    set(outcome, at: index)
                    if outcome.status == .sending { return result(.sending, dueAt: nil) }
                }
                index += 1
            }
        }
        return result(.completed, dueAt: nil, outcome: "finished")
    }

    /// Plans the first of `channels` that can be sent on; the ones refused at planning (no address, a
    /// preference) are written too, so the timeline shows why each was passed over.
    private func firstSuccess(
        _ channels: [ChannelKind], tried: [ChannelKind], step: Int, now: Date, plan: (ChannelKind, DigestSpec?) -> PlannedMessage,
        sends: inout [Send], planned: inout [RunMessage]
    ) -> WorkflowStepRecord? {
        var tried = tried
        var messages: [PlannedMessage] = []
        let digest = currentDigest(before: step, records: [])
        defer {
            if !messages.isEmpty {
                sends.append(Send(step: step, messages: messages, digest: digest))
                planned += messages.map { RunMessage(step: step, channel: $0.channel, status: $0.status) }
            }
        }
        for channel in channels {
            let message = plan(channel, digest)
            messages.append(message)
            tried.append(channel)
            if message.status == .queued { return WorkflowStepRecord(status: .sending, at: now, channels: tried) }
        }
        let failedHere = planned.filter { $0.step == step }.map { "\($0.channel.rawValue) \($0.status.rawValue)" }
            + messages.map { "\($0.channel.rawValue) \($0.reason?.rawValue ?? $0.status.rawValue)" }
        return WorkflowStepRecord(status: .failed, reason: "no_channel_worked: " + failedHere.joined(separator: ", "), at: now, channels: tried)
    }

    /// The digest in force for a send at `step`: the last `digest` step before it.
    private func currentDigest(before step: Int, records: [WorkflowStepRecord]) -> DigestSpec? {
        for index in stride(from: step - 1, through: 0, by: -1) {
            if case .digest(let digest) = workflow.steps[index].action {
                let skipped = index < records.count && records[index].status == .skipped
                return skipped ? nil : digest
            }
        }
        return nil
    }

    /// Whether `until` has happened to any of the run's messages.
    func happened(_ until: WaitSpec.Until, in messages: [RunMessage]) -> Bool {
        switch until {
        case .read: messages.contains(where: \.read)
        case .seen: messages.contains(where: \.seen)
        case .clicked: messages.contains(where: \.clicked)
        case .delivered: messages.contains(where: \.delivered)
        case .opened: messages.contains(where: \.opened)
        }
    }

    /// Earlier steps as conditions see them (`steps.<n>.status`, `.read` …).
    func stepOutcomes(records: [WorkflowStepRecord], messages: [RunMessage], upTo step: Int) -> [ConditionContext.Step] {
        (0..<step).map { index in
            let own = messages.filter { $0.step == index }
            let record = index < records.count ? records[index] : nil
            return ConditionContext.Step(
                status: Self.status(of: record, messages: own), read: own.contains(where: \.read), seen: own.contains(where: \.seen),
                clicked: own.contains(where: \.clicked), delivered: own.contains(where: \.delivered), opened: own.contains(where: \.opened))
        }
    }

    /// A step's status for conditions: for a send, the best its messages reached.
    static func status(of record: WorkflowStepRecord?, messages: [RunMessage]) -> String {
        guard let record else { return "pending" }
        switch record.status {
        case .skipped: return "skipped"
        case .waiting: return "waiting"
        case .done, .failed, .sending:
            if messages.isEmpty { return record.status == .failed ? "failed" : "done" }
            if messages.contains(where: { $0.status == .delivered }) { return "delivered" }
            if messages.contains(where: { $0.status == .sent }) { return "sent" }
            if messages.contains(where: { !$0.status.isFinal || $0.status == .merged }) { return "queued" }
            if messages.allSatisfy({ $0.status == .suppressed }) { return "suppressed" }
            return "failed"
        }
    }

    static func reasons(_ messages: [PlannedMessage]) -> String {
        messages.map { "\($0.channel.rawValue) \($0.reason?.rawValue ?? $0.status.rawValue)" }.joined(separator: ", ")
    }
}
