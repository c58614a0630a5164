import Foundation

/// Nodes sharing one database: wake-ups and live inbox changes passed between them. A store no other
/// node uses keeps the defaults, which tell no one.
public protocol ClusterStore: Sendable {
    /// Whether other processes may work on this database at once (PostgreSQL), so wake-ups and live
    /// inbox changes have to reach them.
    var isShared: Bool { get }
    /// Tells the other nodes (PostgreSQL `NOTIFY`); a store no other node uses has no one to tell.
    func broadcast(_ signal: ClusterSignal) async throws
    /// Hands other nodes' signals to `receive` until cancelled or the connection fails (PostgreSQL
    /// `LISTEN` on a connection of its own); a store no other node uses returns at once.
    func listen(_ receive: @escaping @Sendable (ClusterSignal) async -> Void) async throws
}

extension ClusterStore {
    public var isShared: Bool { false }
    public func broadcast(_ signal: ClusterSignal) async throws {}
    public func listen(_ receive: @escaping @Sendable (ClusterSignal) async -> Void) async throws {}
}
