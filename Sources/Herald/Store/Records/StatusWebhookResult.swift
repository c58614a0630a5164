import Foundation

/// What came of sending one claimed status webhook, as the store records it.
public struct StatusWebhookResult: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// The receiver answered 2xx.
        case delivered
        /// Try again at this time. A refunded try (the endpoint's circuit was open) does not count
        /// against the row's attempts.
        case retry(at: Date, refundsAttempt: Bool)
        /// Given up: a 4xx, a refused destination, a disabled or removed endpoint, attempts exhausted.
        case failed
    }

    public var rowID: Int64
    public var state: State
    /// The receiver's answer or the reason, for operators.
    public var detail: String?

    public init(rowID: Int64, state: State, detail: String?) {
        self.rowID = rowID
        self.state = state
        self.detail = detail
    }
}
