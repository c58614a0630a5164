import Foundation

/// A workflow run a runner holds under lease.
public struct ClaimedRun: Sendable, Hashable {
    public var id: Int64
    public var tenantID: String
    public var eventPK: Int64
    public var subscriberPK: Int64
}
