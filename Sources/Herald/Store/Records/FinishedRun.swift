import Foundation

/// A run that completed or was stopped in an advance, for metrics and the `workflow.completed` status event.
public struct FinishedRun: Sendable, Hashable {
    public var tenantID: String
    public var eventID: String
    public var eventType: String
    public var subscriberID: String
    public var status: WorkflowRunStatus
    /// `finished`, or what ended it early: `read`, `seen`, `clicked`, `delivered`, `subscriber_deleted`, `event_cancelled`.
    public var outcome: String
}
