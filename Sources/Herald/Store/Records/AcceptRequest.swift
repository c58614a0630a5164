import Foundation

/// One trigger request, as ``IntakeStore/acceptMany(_:now:)`` takes several at once.
public struct AcceptRequest: Sendable {
    public var tenantID: String
    public var triggers: [PreparedTrigger]
    public var idempotency: IdempotencyClaim?

    public init(tenantID: String, triggers: [PreparedTrigger], idempotency: IdempotencyClaim?) {
        self.tenantID = tenantID
        self.triggers = triggers
        self.idempotency = idempotency
    }
}

extension AcceptRequest {
    /// A request holding a critical trigger: its write goes ahead of the others (``UrgentWrites``).
    public var isUrgent: Bool { triggers.areUrgent }
}

extension [PreparedTrigger] {
    /// Triggers of which one is critical: the write that stores them goes ahead of long ones (``UrgentWrites``).
    public var areUrgent: Bool { contains { $0.eventType.priority == .critical } }
}
