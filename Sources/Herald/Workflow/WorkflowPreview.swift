import Foundation

/// Which steps a workflow would take for a sample payload and subscriber: what the console's editor
/// shows before an operator saves. Every wait is taken to run its course without what it waits for
/// happening (the escalation path), unless the preview assumes the recipient reads during the first wait.
public struct WorkflowPreview: Sendable, Codable, Hashable {
    public struct Step: Sendable, Codable, Hashable {
        public var index: Int
        public var summary: String
        /// `done`, `skipped`, `failed` or `pending` (not reached: an earlier wait ended the run).
        public var status: String
        public var reason: String?
        /// For a send: each message it would plan, with its status (`queued`, `suppressed`) and reason.
        public var messages: [Message]
    }

    public struct Message: Sendable, Codable, Hashable {
        public var channel: ChannelKind
        public var status: MessageStatus
        public var reason: String?
    }

    /// Problems in the workflow itself (a draft is previewed before it is saved), each naming its step.
    public var problems: [FieldError]
    public var steps: [Step]
    /// `finished`, or what ended the run early in the preview (`read`).
    public var outcome: String?

    /// Runs `workflow` to its end for one recipient with `plan` as the planner, without a store: waits
    /// elapse at once, a `first_success` message counts as delivered when it would be queued.
    static func simulate(
        _ workflow: Workflow, context: ConditionContext, timeZone: TimeZone, assumeRead: Bool, now: Date,
        plan: (ChannelKind, DigestSpec?) -> PlannedMessage
    ) -> (steps: [Step], outcome: String?) {
        var messages: [RunMessage] = []
        var records: [WorkflowStepRecord] = []
        var step = 0
        var outcome: String?
        var planned: [Int: [Message]] = [:]
        var clock = now
        // Each pass ends at a wait or an outstanding send; a workflow has at most 20 steps, so this ends.
        for _ in 0...(Workflow.maximumSteps * 3) {
            let advance = WorkflowStepper(workflow: workflow, context: context, messages: messages, timeZone: timeZone)
                .advance(step: step, records: records, now: clock, plan: plan)
            records = advance.records
            step = advance.step
            for send in advance.sends {
                for message in send.messages {
                    planned[send.step, default: []].append(Message(channel: message.channel, status: message.status, reason: message.reason?.rawValue))
                    // In the preview a queued message is delivered, and read if the preview assumes reading.
                    let delivered: MessageStatus = message.channel == .inApp ? .delivered : .sent
                    messages.append(
                        RunMessage(
                            step: send.step, channel: message.channel, status: message.status == .queued ? delivered : message.status,
                            read: assumeRead && message.status == .queued && message.channel == .inApp))
                }
            }
            switch advance.status {
            case .waiting: clock = advance.dueAt ?? clock
            case .sending, .active: continue
            case .completed, .cancelled:
                outcome = advance.outcome
            }
            if outcome != nil { break }
        }
        let steps = workflow.steps.enumerated().map { index, definition in
            let record = index < records.count ? records[index] : nil
            return Step(
                index: index, summary: definition.summary, status: record?.status.rawValue ?? "pending", reason: record?.reason,
                messages: planned[index] ?? [])
        }
        return (steps, outcome)
    }
}
