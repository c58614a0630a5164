import Foundation

extension Message {
    /// Fills in opens and clicks from the stored row: the counts only on email (the one channel Herald tracks
    /// them on), the first click on any message that has one (an inbox click sets it too).
    mutating func describeEngagement(openedAt: Date?, openCount: Int64?, clickedAt: Date?, clickCount: Int64?) {
        self.clickedAt = clickedAt
        guard channel == .email else { return }
        self.openedAt = openedAt
        self.openCount = Int(truncatingIfNeeded: openCount ?? 0)
        self.clickCount = Int(truncatingIfNeeded: clickCount ?? 0)
    }
}
