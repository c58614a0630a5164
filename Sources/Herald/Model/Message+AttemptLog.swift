import Foundation

extension Message {
    /// The message's attempt log from its recorded attempts. An in-app message delivered as it was planned
    /// has none recorded (``InAppComposer``: its row holds the outcome), so its one try is shown from the row.
    func attemptLog(_ recorded: [DeliveryAttempt]) -> [DeliveryAttempt] {
        guard recorded.isEmpty, channel == .inApp, status == .delivered, let sentAt else { return recorded }
        return [DeliveryAttempt.inboxWrite(at: sentAt)]
    }
}
