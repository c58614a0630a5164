import Synchronization

/// One open inbox stream: where it has got to, and the buffer its updates wait in.
final class InboxConnection: Sendable {
    let id: UInt64
    let key: InboxHub.Key
    private let continuation: AsyncStream<InboxUpdate>.Continuation
    private let state: Mutex<InboxPosition>

    init(id: UInt64, key: InboxHub.Key, position: InboxPosition, continuation: AsyncStream<InboxUpdate>.Continuation) {
        self.id = id
        self.key = key
        self.state = Mutex(position)
        self.continuation = continuation
    }

    var position: InboxPosition {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Queues an update without waiting. A full buffer means the client is not keeping up: the
    /// connection is closed rather than let it hold anything up; the client resumes from its last id.
    @discardableResult
    func send(_ update: InboxUpdate) -> Bool {
        switch continuation.yield(update) {
        case .enqueued: return true
        case .dropped:
            continuation.finish()
            return false
        case .terminated: return false
        @unknown default: return false
        }
    }

    func close() {
        continuation.finish()
    }
}

/// The open connections, by subscriber.
final class InboxConnections: Sendable {
    private struct State {
        var byKey: [InboxHub.Key: [UInt64: InboxConnection]] = [:]
        var nextID: UInt64 = 1
        var count = 0
    }

    private let state = Mutex(State())

    func add(key: InboxHub.Key, position: InboxPosition, continuation: AsyncStream<InboxUpdate>.Continuation) -> InboxConnection {
        state.withLock { state in
            let connection = InboxConnection(id: state.nextID, key: key, position: position, continuation: continuation)
            state.nextID += 1
            state.byKey[key, default: [:]][connection.id] = connection
            state.count += 1
            return connection
        }
    }

    func remove(_ connection: InboxConnection) {
        state.withLock { state in
            guard state.byKey[connection.key]?.removeValue(forKey: connection.id) != nil else { return }
            state.count -= 1
            if state.byKey[connection.key]?.isEmpty == true { state.byKey[connection.key] = nil }
        }
    }

    var isEmpty: Bool { state.withLock { $0.count == 0 } }
    var count: Int { state.withLock { $0.count } }

    func contains(_ key: InboxHub.Key) -> Bool {
        state.withLock { $0.byKey[key] != nil }
    }

    func connections(_ key: InboxHub.Key) -> [InboxConnection] {
        state.withLock { $0.byKey[key].map { Array($0.values) } ?? [] }
    }

    func all() -> [InboxConnection] {
        state.withLock { $0.byKey.values.flatMap(\.values) }
    }
}
