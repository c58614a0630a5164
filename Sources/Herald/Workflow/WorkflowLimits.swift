import Foundation

/// The bounds a workflow is checked against when its event type is saved: the shortest wait the server
/// allows (a setting, so demos run in seconds) and the longest (a run must finish before retention
/// removes its event).
public struct WorkflowLimits: Sendable, Hashable {
    public var minimumWaitSeconds: Double
    /// The server's retention in days; an event type's own `retention_days` replaces it for that type.
    public var retentionDays: Int

    public init(minimumWaitSeconds: Double = 60, retentionDays: Int = 90) {
        self.minimumWaitSeconds = minimumWaitSeconds
        self.retentionDays = retentionDays
    }
}

extension HeraldConfiguration {
    public var workflowLimits: WorkflowLimits {
        WorkflowLimits(minimumWaitSeconds: dispatch.workflowMinWaitSeconds, retentionDays: retentionDays)
    }
}
