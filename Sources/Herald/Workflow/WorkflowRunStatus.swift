/// Where a run stands, as stored: the runner claims `active`, `waiting` and `sending` runs when they are due.
public enum WorkflowRunStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// Due to take its next step.
    case active
    /// In a wait step, until its `available_at` or until what it waits for happens.
    case waiting
    /// Waiting for a `first_success` message to finish.
    case sending
    case completed
    case cancelled

    /// Whether the run still has steps to take.
    public var isOpen: Bool { self == .active || self == .waiting || self == .sending }
}
