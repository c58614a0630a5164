/// How urgent an event type is. Critical bypasses preferences and has dispatch capacity held back for it.
public enum Priority: String, Sendable, Codable, CaseIterable, Comparable {
    case critical, high, medium, low

    /// Stored rank: lower is more urgent, so `ORDER BY priority` claims the most urgent work first.
    public var rank: Int {
        switch self {
        case .critical: 0
        case .high: 1
        case .medium: 2
        case .low: 3
        }
    }

    public init?(rank: Int) {
        guard let match = Priority.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = match
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}
