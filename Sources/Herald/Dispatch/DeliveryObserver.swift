/// Told about changes once they are committed to the store, never before: real-time inbox pushes and
/// delivery-status webhooks both start from here, so neither can announce something that a crash
/// then undoes.
public protocol DeliveryObserver: Sendable {
    /// A dispatcher batch's outcomes, as committed (messages another node completed first are left out).
    func recorded(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async
    /// A subscriber read, archived or saw inbox messages.
    func inboxChanged(_ change: InboxChange) async
    /// Workflow runs that completed or were stopped, as committed.
    func workflowsFinished(_ runs: [FinishedRun]) async
}

extension DeliveryObserver {
    public func recorded(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async {}
    public func inboxChanged(_ change: InboxChange) async {}
    public func workflowsFinished(_ runs: [FinishedRun]) async {}
}
