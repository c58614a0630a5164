import Foundation

/// Which messages a claim may take.
public enum ClaimScope: Sendable, Hashable {
    /// Critical messages only: the lane held back so a backlog never delays an emergency.
    case criticalOnly
    /// Everything due, most urgent first.
    case all
}
