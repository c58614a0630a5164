import Foundation

extension Message {
    /// The answer and duration of the successful try its row holds (``DeliveryOutcome/isHeldByMessage``).
    struct HeldTry: Sendable {
        var detail: String?
        var startedAt: Date
        var durationMs: Double
    }

    /// The message's attempt log: its recorded attempts, then the successful try its row holds, if any. An
    /// in-app message delivered as it was planned has neither (``InAppComposer``: its row holds the
    /// outcome), so its one try is shown from the row.
    func attemptLog(_ recorded: [DeliveryAttempt], heldTry: HeldTry?) -> [DeliveryAttempt] {
        if let heldTry, status == .sent || status == .delivered {
            return recorded + [
                DeliveryAttempt(
                    number: max(attempts, 1), startedAt: heldTry.startedAt, durationMs: heldTry.durationMs,
                    outcome: status == .sent ? .sent : .delivered, detail: heldTry.detail)
            ]
        }
        guard recorded.isEmpty, channel == .inApp, status == .delivered, let sentAt else { return recorded }
        return [DeliveryAttempt.inboxWrite(at: sentAt)]
    }
}
