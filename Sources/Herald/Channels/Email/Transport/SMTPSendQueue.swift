import Synchronization

/// One batch's emails waiting for a connection, most urgent first, shared by the lanes of ``SMTPTransport``.
///
/// Lanes take one email at a time instead of a fixed share, so a connection given back to a critical email
/// (or lost) leaves nothing stranded behind it: the other lanes carry on with the rest.
final class SMTPSendQueue: Sendable {
    private struct State {
        var order: [Int]
        var next = 0
        /// What the emails nobody sent get, once every lane has given up.
        var lastFailure: EmailSendOutcome?
    }

    private let state: Mutex<State>

    /// `priorities[i]` is the priority of email `i`; emails are taken most urgent first, in batch order within a priority.
    init(priorities: [Priority]) {
        let order = priorities.indices.sorted { (priorities[$0].rank, $0) < (priorities[$1].rank, $1) }
        state = Mutex(State(order: order))
    }

    /// The index of the next email to send, or nil when none is left.
    func take() -> Int? {
        state.withLock { state in
            guard state.next < state.order.count else { return nil }
            defer { state.next += 1 }
            return state.order[state.next]
        }
    }

    /// A lane stops taking emails (no connection to be had, or it broke twice); `outcome` is what the emails
    /// left over get if every lane stops.
    func laneGaveUp(_ outcome: EmailSendOutcome) {
        state.withLock { $0.lastFailure = outcome }
    }

    /// The emails no lane took, with the outcome they get; asked once every lane has finished.
    func leftOver() -> (indices: [Int], outcome: EmailSendOutcome) {
        state.withLock { state in
            let rest = Array(state.order[min(state.next, state.order.count)...])
            return (rest, state.lastFailure ?? .transientFailure("no SMTP connection took this email"))
        }
    }
}
