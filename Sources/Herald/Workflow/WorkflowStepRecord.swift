import Foundation

/// What happened at one step of a run, stored with the run: the timeline `GET /v1/events/{id}` shows.
public struct WorkflowStepRecord: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        /// A wait in progress, until ``until``.
        case waiting
        /// A `first_success` send whose message has not finished yet.
        case sending
        case done
        case skipped
        /// A send on which no channel worked.
        case failed
    }

    public var status: Status
    /// Why: `condition_false`, `read_before_wait_ended`, `waited`, `no_channel_worked` …
    public var reason: String?
    /// When the step was decided.
    public var at: Date
    /// The end of a wait.
    public var until: Date?
    /// For a send: the channels it sent on (for `first_success`, each one tried, in order).
    public var channels: [ChannelKind]?

    public init(status: Status, reason: String? = nil, at: Date, until: Date? = nil, channels: [ChannelKind]? = nil) {
        self.status = status
        self.reason = reason
        self.at = at
        self.until = until
        self.channels = channels
    }
}
