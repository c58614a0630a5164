import Foundation

/// Whether this process can do its work, as `GET /readyz` reports it to a load balancer: the database answers, and
/// in a process that runs the dispatcher, the dispatcher's heartbeat is recent.
public struct Readiness: Encodable, Sendable {
    public var ready: Bool
    /// The node's role, so a load balancer's view of the cluster is easy to read.
    public var role: String
    public var database: String
    public var dispatcher: String
    public var queue: QueueDepth?
}
