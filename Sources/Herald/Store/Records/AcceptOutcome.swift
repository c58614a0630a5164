import Foundation

/// What accepting triggers produced: new receipts, or the stored answer to an earlier identical request.
public enum AcceptOutcome: Sendable {
    case accepted([TriggerReceipt])
    case replayed([TriggerReceipt])
}
