import Foundation

/// State a flow keeps between triggers: digests collecting events until they close, and schedules
/// that trigger on a timetable.
public protocol FlowStateStore: Sendable {
    // MARK: Digests
    /// Closes the digest (later items start a new one) and returns its items in arrival order, leaving
    /// out cancelled ones. Called for the digest's message each time it is tried, with the same answer.
    func digestItems(digestID: Int64, now: Date) async throws -> [DigestItem]

    // MARK: Schedules
    func createSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule
    func schedule(tenantID: String, id: String) async throws -> Schedule?
    func schedules(tenantID: String, cursor: Int64?, limit: Int) async throws -> Page<Schedule>
    /// Replaces a schedule's definition (and its next run); nil when unknown.
    func updateSchedule(tenantID: String, _ schedule: Schedule) async throws -> Schedule?
    func deleteSchedule(tenantID: String, id: String) async throws -> Bool
    /// Leases up to `limit` enabled schedules whose next run is due, to `owner` until `leaseUntil`.
    func claimDueSchedules(owner: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [Schedule]
    /// Records a run of a claimed schedule: the occurrence it ran (`ranAt`), the event it made (or the
    /// error), and its next run. Ignored unless `owner` still holds the lease; returns whether it was recorded.
    func finishScheduleRun(
        tenantID: String, id: String, owner: String, ranAt: Date, eventID: String?, error: String?, nextRunAt: Date, now: Date
    ) async throws -> Bool
}
