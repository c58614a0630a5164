import Foundation
import Testing

@testable import Herald

/// The doorbells a commit rings: only the loops the work concerns, and one general lane at a time.
@Suite struct WakeSignalTests {
    /// Whether `wakeup` was rung while its loop was busy (the ring is remembered), consuming the ring.
    static func wasRung(_ wakeup: Wakeup) async -> Bool {
        guard wakeup.hasPendingRing else { return false }
        await wakeup.wait(upTo: 60)
        return true
    }

    @Test("a trigger to subscribers rings its priority's lane, a topic the fan-out worker, a workflow type the runner")
    func workReachesOnlyTheLoopsItConcerns() async {
        let signal = WakeSignal()
        let critical = signal.makeWakeup(for: .critical)
        let general = signal.makeWakeup(for: .messages, takingTurns: true)
        let fanout = signal.makeWakeup(for: .fanout)
        let workflows = signal.makeWakeup(for: .workflows)

        func rung() async -> [Bool] {
            var rung: [Bool] = []
            for wakeup in [critical, general, fanout, workflows] { rung.append(await Self.wasRung(wakeup)) }
            return rung
        }
        signal.ring(.messages)
        #expect(await rung() == [false, true, false, false])
        signal.ring([.critical, .fanout])
        #expect(await rung() == [true, false, true, false])
        signal.ring(.workflows)
        #expect(await rung() == [false, false, false, true])
        // A ring from another node says nothing of what it was for: it wakes everyone.
        signal.ringHere()
        #expect(await rung() == [true, true, true, true])
    }

    @Test("general lanes take turns: one ring wakes one lane, an asleep one before a busy one")
    func generalLanesTakeTurns() async throws {
        let signal = WakeSignal()
        let first = signal.makeWakeup(for: .messages, takingTurns: true)
        let second = signal.makeWakeup(for: .messages, takingTurns: true)

        // Neither is asleep: the ring is remembered by one of them only.
        signal.ring(.messages)
        let rungFirst = await Self.wasRung(first)
        let rungSecond = await Self.wasRung(second)
        #expect(rungFirst != rungSecond, "one ring, one lane")

        // The second lane sleeps, the first is busy: the ring goes to the sleeping one.
        let asleep = Task { await second.wait(upTo: 60) }
        while !second.isWaiting { try await Task.sleep(for: .milliseconds(5)) }
        signal.ring(.messages)
        await asleep.value
        #expect(!first.hasPendingRing && !second.hasPendingRing, "the ring woke the sleeping lane and nobody else")
        // Both busy again: turns go round, so the next ring goes to the first.
        signal.ring(.messages)
        #expect(first.hasPendingRing && !second.hasPendingRing)
    }

    @Test("the work a prepared trigger announces follows its recipients, priority and workflow")
    func preparedTriggerWork() {
        func prepared(_ recipients: [Recipient], priority: Priority, workflow: Bool = false) -> PreparedTrigger {
            var type = EventType(key: "t", priority: priority, channels: [.inApp])
            if workflow { type.workflow = Workflow(steps: []) }
            return PreparedTrigger(
                eventID: "ev_1", trigger: Trigger(type: "t", recipients: recipients), eventType: type, expiresAt: Date())
        }
        #expect(prepared([.subscriber("a")], priority: .medium).work == .messages)
        #expect(prepared([.subscriber("a")], priority: .critical).work == [.critical, .messages])
        #expect(prepared([.topic("all")], priority: .critical).work == .fanout)
        #expect(prepared([.topic("all"), .subscriber("a")], priority: .low, workflow: true).work == [.fanout, .messages, .workflows])
    }
}
