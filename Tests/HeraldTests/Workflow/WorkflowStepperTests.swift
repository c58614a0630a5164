import Foundation
import Testing

@testable import Herald

/// The stepper without a store: every decision a run can meet, from one call each.
@Suite("Workflow stepper")
struct WorkflowStepperTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let subscriber = Subscriber(id: "ana", email: "ana@example.com")

    static func stepper(_ steps: [WorkflowStep], messages: [RunMessage] = [], priority: Priority = .medium, payload: [String: JSONValue] = [:])
        -> WorkflowStepper
    {
        WorkflowStepper(
            workflow: Workflow(steps: steps),
            context: ConditionContext(payload: payload, subscriber: subscriber, priority: priority, tenantID: "t1"), messages: messages,
            timeZone: TimeZone(identifier: "UTC")!)
    }

    /// A planner that queues every channel but those in `refused`, which it suppresses for `reason`.
    static func planner(refusing refused: Set<ChannelKind> = [], reason: SuppressionReason = .noAddress) -> (ChannelKind, DigestSpec?) -> PlannedMessage {
        { channel, _ in
            refused.contains(channel)
                ? PlannedMessage(subscriberRowID: 1, channel: channel, status: .suppressed, reason: reason)
                : PlannedMessage(subscriberRowID: 1, channel: channel, status: .queued, reason: nil)
        }
    }

    static let escalation = [
        WorkflowStep(.send([.inApp], .all)),
        WorkflowStep(.wait(WaitSpec(duration: "15m", until: .read))),
        WorkflowStep(.send([.email], .all)),
    ]

    @Test("a new run sends its first step and goes on into the wait in the same pass")
    func firstPass() {
        let advance = Self.stepper(Self.escalation).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        #expect(advance.sends.map(\.step) == [0])
        #expect(advance.sends.first?.messages.map(\.channel) == [.inApp])
        #expect(advance.status == .waiting)
        #expect(advance.step == 1)
        #expect(advance.wakeOn == .read)
        #expect(advance.dueAt == Self.now.addingTimeInterval(900))
        #expect(advance.records.map(\.status) == [.done, .waiting])
    }

    @Test("a wait that runs its course goes on to the next step; one cut short by a read ends the run")
    func waitEnds() {
        let first = Self.stepper(Self.escalation).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        let later = Self.now.addingTimeInterval(901)
        let unread = Self.stepper(Self.escalation, messages: [RunMessage(step: 0, channel: .inApp, status: .delivered)])
            .advance(step: first.step, records: first.records, now: later, plan: Self.planner())
        #expect(unread.status == .completed)
        #expect(unread.outcome == "finished")
        #expect(unread.sends.map(\.step) == [2])
        #expect(unread.records.map(\.reason) == [nil, "waited", nil])

        let read = Self.stepper(Self.escalation, messages: [RunMessage(step: 0, channel: .inApp, status: .delivered, read: true, seen: true)])
            .advance(step: first.step, records: first.records, now: Self.now.addingTimeInterval(60), plan: Self.planner())
        #expect(read.status == .completed)
        #expect(read.outcome == "read")
        #expect(read.sends.isEmpty, "nothing more is sent")
        #expect(read.records.map(\.status) == [.done, .done, .skipped])
        #expect(read.records.last?.reason == "read_before_wait_ended")
    }

    @Test("woken early by something the wait is not for, a run waits on until its time")
    func spuriousWake() {
        let first = Self.stepper(Self.escalation).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        let seenOnly = Self.stepper(Self.escalation, messages: [RunMessage(step: 0, channel: .inApp, status: .delivered, seen: true)])
            .advance(step: first.step, records: first.records, now: Self.now.addingTimeInterval(60), plan: Self.planner())
        #expect(seenOnly.status == .waiting)
        #expect(seenOnly.dueAt == Self.now.addingTimeInterval(900), "the same end as before")
        #expect(seenOnly.sends.isEmpty)
    }

    @Test("a step whose condition is false is skipped with its reason; a condition after a send waits for the next pass")
    func conditions() throws {
        let steps = [
            WorkflowStep(.send([.inApp], .all)),
            WorkflowStep(.send([.sms], .all), if: try WorkflowCondition(parsing: "priority == 'critical'")),
            WorkflowStep(.send([.email], .all), if: try WorkflowCondition(parsing: "steps.0.status == 'delivered'")),
        ]
        let first = Self.stepper(steps).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        #expect(first.status == .active, "the condition reads what the send just planned: decided when next due")
        #expect(first.dueAt == Self.now)
        #expect(first.step == 1)
        let second = Self.stepper(steps, messages: [RunMessage(step: 0, channel: .inApp, status: .delivered)])
            .advance(step: first.step, records: first.records, now: Self.now, plan: Self.planner())
        #expect(second.records.map(\.status) == [.done, .skipped, .done])
        #expect(second.records[1].reason == "condition_false")
        #expect(second.sends.map(\.step) == [2])
        #expect(second.status == .completed)
    }

    @Test("first_success: a channel refused at planning falls through at once; a failed message falls back; a delivered one ends the step")
    func firstSuccess() {
        let steps = [WorkflowStep(.send([.email, .sms, .push], .firstSuccess))]
        let start = Self.stepper(steps).advance(step: 0, records: [], now: Self.now, plan: Self.planner(refusing: [.email]))
        #expect(start.status == .sending, "waits for the SMS to finish")
        #expect(start.sends.first?.messages.map(\.channel) == [.email, .sms], "the refused email is written too, with its reason")
        #expect(start.records.first?.channels == [.email, .sms])

        let failed = Self.stepper(
            steps, messages: [RunMessage(step: 0, channel: .email, status: .suppressed), RunMessage(step: 0, channel: .sms, status: .failed)]
        ).advance(step: 0, records: start.records, now: Self.now, plan: Self.planner())
        #expect(failed.sends.first?.messages.map(\.channel) == [.push], "the SMS failed: push is next")
        #expect(failed.status == .sending)

        let pending = Self.stepper(steps, messages: [RunMessage(step: 0, channel: .sms, status: .queued)])
            .advance(step: 0, records: start.records, now: Self.now, plan: Self.planner())
        #expect(pending.status == .sending, "a queued or retried message is waited for, not fallen back from")
        #expect(pending.sends.isEmpty)

        let delivered = Self.stepper(steps, messages: [RunMessage(step: 0, channel: .sms, status: .sent)])
            .advance(step: 0, records: start.records, now: Self.now, plan: Self.planner())
        #expect(delivered.status == .completed)
        #expect(delivered.records.first?.reason == "sms_sent")

        let nothing = Self.stepper(steps).advance(step: 0, records: [], now: Self.now, plan: Self.planner(refusing: [.email, .sms, .push]))
        #expect(nothing.records.first?.status == .failed)
        #expect(nothing.records.first?.reason?.hasPrefix("no_channel_worked") == true)
        #expect(nothing.status == .completed)
    }

    @Test("a digest step sets the digest the following sends go into")
    func digest() {
        let steps = [WorkflowStep(.digest(DigestSpec(window: "1h"))), WorkflowStep(.send([.email], .all))]
        let advance = Self.stepper(steps).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        #expect(advance.sends.first?.digest == DigestSpec(window: "1h"))
        #expect(advance.records.map(\.reason) == ["digest_set", nil])
    }

    @Test("wait_until ends at the next time of day on the subscriber's clock")
    func waitUntilTime() {
        let steps = [WorkflowStep(.wait(WaitSpec(timeOfDay: "09:00"))), WorkflowStep(.send([.email], .all))]
        let stepper = WorkflowStepper(
            workflow: Workflow(steps: steps), context: ConditionContext(payload: [:], subscriber: Self.subscriber, priority: .low, tenantID: "t1"),
            messages: [], timeZone: TimeZone(identifier: "Europe/Paris")!)
        // 2027-01-15 12:00 UTC is 13:00 in Paris: the next 09:00 there is 08:00 UTC the next day.
        let noon = ISO8601DateFormatter().date(from: "2027-01-15T12:00:00Z")!
        let advance = stepper.advance(step: 0, records: [], now: noon, plan: Self.planner())
        #expect(advance.dueAt == ISO8601DateFormatter().date(from: "2027-01-16T08:00:00Z"))
    }

    @Test("a run resumed after a crash goes on from the step it stands at: decided steps are not taken again")
    func resume() {
        let first = Self.stepper(Self.escalation).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        // The same pass replayed (its transaction was rolled back): the same decisions, nothing extra.
        let again = Self.stepper(Self.escalation).advance(step: 0, records: [], now: Self.now, plan: Self.planner())
        #expect(again.sends == first.sends)
        // A record already done is passed over.
        let done = Self.stepper(Self.escalation).advance(step: 0, records: [first.records[0]], now: Self.now, plan: Self.planner())
        #expect(done.sends.isEmpty, "the in-app step was already taken")
        #expect(done.status == .waiting)
    }

    @Test("the preview runs a workflow to its end without a store: the escalation path, and the path when read")
    func preview() {
        let context = ConditionContext(payload: [:], subscriber: Self.subscriber, priority: .medium, tenantID: "t1")
        let escalated = WorkflowPreview.simulate(
            Workflow(steps: Self.escalation), context: context, timeZone: TimeZone(identifier: "UTC")!, assumeRead: false, now: Self.now,
            plan: Self.planner())
        #expect(escalated.steps.map(\.status) == ["done", "done", "done"])
        #expect(escalated.outcome == "finished")
        let read = WorkflowPreview.simulate(
            Workflow(steps: Self.escalation), context: context, timeZone: TimeZone(identifier: "UTC")!, assumeRead: true, now: Self.now,
            plan: Self.planner())
        #expect(read.steps.map(\.status) == ["done", "done", "skipped"])
        #expect(read.outcome == "read")
    }
}
