import Foundation

/// Opens and clicks of tracked email: counted on the message, the first of each timed, and any workflow run
/// waiting for one woken in the same transaction.
public protocol TrackingStore: Sendable {
    /// Records an open of email message `messageRow` (`open_count` + 1, `opened_at` on the first), waking runs
    /// waiting `until: opened`; nil when there is no such email message (retention removed it).
    func recordEmailOpen(messageRow: Int64, now: Date) async throws -> EmailEngagement?
    /// Records a click on a link of email message `messageRow` (`click_count` + 1, `clicked_at` on the first,
    /// which an inbox click also sets), waking runs waiting `until: clicked`; nil when there is no such email.
    func recordEmailClick(messageRow: Int64, now: Date) async throws -> EmailEngagement?
    /// The tenant's sent email created since `since`, and how much of it was opened and clicked.
    func emailEngagementCounts(tenantID: String, since: Date) async throws -> EmailEngagementCounts
}
