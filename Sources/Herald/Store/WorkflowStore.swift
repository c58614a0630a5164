import Foundation

/// Workflow runs: claiming due ones, advancing them a step at a time, and reading them back.
///
/// Advancing is one transaction per batch that locks the runs, reads what their steps made, decides
/// (``WorkflowStepper``), plans and writes the step's messages (``PlanningSteps``) and the runs' new
/// state together: a crash before commit repeats nothing, after it loses nothing.
public protocol WorkflowStore: Sendable {
    /// Leases up to `limit` due runs, most urgent first; a run whose lease ran out is due again.
    func claimWorkflowRuns(owner: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedRun]
    /// Takes each run held by `owner` as far as it can go now.
    func advanceWorkflowRuns(_ runs: [ClaimedRun], owner: String, now: Date) async throws -> [FinishedRun]
    /// Runs of one event, a page at a time, with their messages; nil when the tenant has no such event.
    func workflowRuns(tenantID: String, eventID: String, subscriberID: String?, cursor: Int64?, limit: Int) async throws -> Page<WorkflowRun>?
    /// How many runs of the event stand in each status (and, when completed, how they ended).
    func workflowRunCounts(tenantID: String, eventID: String) async throws -> [String: Int]
    /// The subscribers, their preference rules for `eventType` and the tenant's planning settings, as
    /// planning reads them.
    func plannerInputs(tenantID: String, subscriberRowIDs: [Int64], eventType: String) async throws -> PlannerInputs
}
