import Synchronization

/// Rings the doorbells of the loops that the committed work concerns: a trigger to one subscriber wakes one
/// dispatcher lane, not every lane, the fan-out worker and the workflow runner, each of which would have run a
/// claim that finds nothing (a write transaction on SQLite). Rings also go, through the relay, to the other nodes
/// of a shared database, where they wake everything (a remote ring does not say what it was for).
public final class WakeSignal: Sendable {
    /// What was committed, and so who should look.
    public struct Work: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Critical messages are due: the critical lane.
        public static let critical = Work(rawValue: 1 << 0)
        /// Messages of any priority are due: one general lane (they take turns; see ``WakeSignal/ring(_:)``).
        public static let messages = Work(rawValue: 1 << 1)
        /// A topic's fan-out job was queued: the fan-out worker.
        public static let fanout = Work(rawValue: 1 << 2)
        /// Workflow runs may have started or woken: the workflow runner.
        public static let workflows = Work(rawValue: 1 << 3)
        public static let all: Work = [.critical, .messages, .fanout, .workflows]
    }

    private struct Doorbell {
        let wakeup: Wakeup
        let work: Work
        let takesTurns: Bool
    }

    private struct State {
        var doorbells: [Doorbell] = []
        /// Where the next turn-taking ring starts looking, so turns go round.
        var turn = 0
    }

    private let state = Mutex(State())
    private let relay = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}

    /// Also calls `relay` on every ``ring(_:)``: how the other nodes hear of new work.
    public func relayRings(to relay: @escaping @Sendable () -> Void) {
        self.relay.withLock { $0 = relay }
    }

    /// A doorbell rung for `work`. Doorbells that `takeTurns` (the general dispatcher lanes) are rung one per
    /// ring: a lane asleep if there is one, else the next in turn (which looks again once its batch is done).
    public func makeWakeup(for work: Work = .all, takingTurns: Bool = false) -> Wakeup {
        let wakeup = Wakeup()
        state.withLock { $0.doorbells.append(Doorbell(wakeup: wakeup, work: work, takesTurns: takingTurns)) }
        return wakeup
    }

    public func ring(_ work: Work = .all) {
        ringHere(work)
        relay.withLock { $0 }?()
    }

    /// Rings this process's doorbells only (for work another node announced).
    public func ringHere(_ work: Work = .all) {
        let chosen = state.withLock { state -> [Wakeup] in
            var chosen: [Wakeup] = []
            var turnTakers: [Int] = []
            for (index, doorbell) in state.doorbells.enumerated() where !doorbell.work.isDisjoint(with: work) {
                if doorbell.takesTurns { turnTakers.append(index) } else { chosen.append(doorbell.wakeup) }
            }
            guard !turnTakers.isEmpty else { return chosen }
            let start = state.turn % turnTakers.count
            let order = turnTakers[start...] + turnTakers[..<start]
            let pick = order.first { state.doorbells[$0].wakeup.isWaiting } ?? order.first!
            state.turn = (turnTakers.firstIndex(of: pick)! + 1) % turnTakers.count
            chosen.append(state.doorbells[pick].wakeup)
            return chosen
        }
        for wakeup in chosen { wakeup.ring() }
    }
}
