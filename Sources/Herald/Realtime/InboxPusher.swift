import Logging

/// The hub's single worker: turns each job into updates for the connections concerned, reading what
/// to send from the store. Jobs run one at a time, in the order they were queued.
struct InboxPusher: Sendable {
    /// Items sent per store read when a connection catches up.
    static let pageSize = 100
    /// A connection that is this many pages behind is sent the counts and left to page the inbox itself.
    static let maxPages = 10

    let store: any Store
    let registry: InboxConnections
    let logger: Logger

    func run(_ job: InboxHub.Job) async {
        do {
            switch job {
            case .opened(let connection):
                try await catchUp(connection)
                let counts = try await counts(connection.key)
                connection.send(InboxUpdate(kind: .counts, counts: counts, position: connection.position))
            case .delivered(let keys):
                for key in keys {
                    for connection in registry.connections(key) { try await catchUp(connection) }
                }
            case .changed(let change):
                let key = InboxHub.Key(tenantID: change.tenantID, subscriberID: change.subscriberID)
                let connections = registry.connections(key)
                guard !connections.isEmpty else { return }
                let counts = try await counts(key)
                let kind: InboxUpdate.Kind =
                    switch change.kind {
                    case .read: .read
                    case .readAll: .readAll
                    case .archived: .archived
                    case .seen: .seen
                    }
                for connection in connections {
                    connection.send(InboxUpdate(kind: kind, messageID: change.messageID, counts: counts, position: connection.position))
                }
            }
        } catch {
            logger.error("inbox push failed; open connections will catch up on the next change", metadata: ["error": "\(error)"])
        }
    }

    private func counts(_ key: InboxHub.Key) async throws -> InboxCounts {
        try await store.inboxCounts(tenantID: key.tenantID, subscriberID: key.subscriberID)
    }

    /// Sends a connection every item delivered after its position, oldest first, each with the counts
    /// read after the items. Counts read before could miss an item committed in between and then be
    /// sent with it: the bell would show one too few until the next change.
    private func catchUp(_ connection: InboxConnection) async throws {
        for _ in 0..<Self.maxPages {
            let items = try await store.inboxSince(
                tenantID: connection.key.tenantID, subscriberID: connection.key.subscriberID, after: connection.position, limit: Self.pageSize)
            guard !items.isEmpty else { return }
            let counts = try await counts(connection.key)
            for item in items {
                guard let position = InboxPosition(item: item) else { continue }
                connection.position = position
                guard connection.send(InboxUpdate(kind: .created, message: item, counts: counts, position: position)) else { return }
            }
            if items.count < Self.pageSize { return }
        }
    }
}
