import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Pushes inbox changes to every open connection (Server-Sent Events or WebSocket) of the subscriber
/// they concern, and to no one else.
///
/// A push is never "the message in hand" but "whatever this connection has not been sent since its
/// position", read from the store after the change is committed. So a new connection, a resumed one
/// (`Last-Event-ID`) and a live one all follow one path, nothing is sent twice, and nothing committed
/// is missed, whichever dispatcher lane or node delivered it. One worker handles every push in order,
/// so the counts a connection receives last are always the newest.
///
/// Publishing never waits for a client: each connection has a bounded buffer, and a connection that
/// lets it fill (a slow or dead client) is closed. Its client reconnects with `Last-Event-ID` and is
/// sent what it missed.
public final class InboxHub: DeliveryObserver, Service, Sendable {
    public struct Key: Hashable, Sendable {
        public var tenantID: String
        public var subscriberID: String

        public init(tenantID: String, subscriberID: String) {
            self.tenantID = tenantID
            self.subscriberID = subscriberID
        }
    }

    /// Updates a connection may have waiting before it is judged too slow and closed.
    public let bufferLimit: Int
    /// How often an idle connection is sent a heartbeat.
    public let heartbeatSeconds: Double
    private let registry = InboxConnections()
    private let store: any Store
    private let pusher: InboxPusher
    /// Pushes waiting for the hub's run loop, in the order they were asked for.
    private let jobs = Mutex<[Job]>([])
    private let jobAdded = Wakeup()
    /// Whether a run loop is pushing, so a second start of the engine's services does not push out of order.
    private let running = Mutex(false)

    enum Job: Sendable {
        case opened(InboxConnection)
        case delivered([Key])
        case changed(InboxChange)
    }

    public init(store: any Store, bufferLimit: Int = 512, heartbeatSeconds: Double = 15, logger: Logger) {
        self.bufferLimit = max(8, bufferLimit)
        self.heartbeatSeconds = heartbeatSeconds
        self.store = store
        self.pusher = InboxPusher(store: store, registry: registry, logger: logger)
    }

    /// The hub's one worker: every push in order, and a heartbeat to idle connections every `heartbeatSeconds`.
    /// Runs among the engine's services on every node role, since any node may hold live connections.
    public func run() async throws {
        guard running.withLock({ running in
            defer { running = true }
            return !running
        }) else {
            // Another run of this hub pushes for both; this one only waits to be stopped.
            await cancelWhenGracefulShutdown { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
            return
        }
        defer { running.withLock { $0 = false } }
        let beat = Seconds(clamping: heartbeatSeconds).duration
        await cancelWhenGracefulShutdown {
            var nextBeat = ContinuousClock.now + beat
            while !Task.isCancelled {
                let waiting = self.jobs.withLock { jobs in
                    defer { jobs.removeAll() }
                    return jobs
                }
                for job in waiting { await self.pusher.run(job) }
                let now = ContinuousClock.now
                if now >= nextBeat {
                    for connection in self.registry.all() {
                        connection.send(InboxUpdate(kind: .heartbeat, counts: nil, position: connection.position))
                    }
                    nextBeat = now + beat
                }
                if waiting.isEmpty {
                    let (seconds, attoseconds) = (nextBeat - now).components
                    await self.jobAdded.wait(upTo: Double(seconds) + Double(attoseconds) / 1e18)
                }
            }
        }
    }

    private func enqueue(_ job: Job) {
        jobs.withLock { $0.append(job) }
        jobAdded.ring()
    }

    /// Opens a live connection for one subscriber. With `resumeAfter` (a client's `Last-Event-ID`), the
    /// first updates are the items delivered since; then the current counts; then live changes.
    /// The connection closes when the returned stream is dropped or cancelled.
    public func open(tenantID: String, subscriberID: String, resumeAfter: InboxPosition?) async throws -> InboxSubscription {
        let key = Key(tenantID: tenantID, subscriberID: subscriberID)
        let position: InboxPosition
        if let resumeAfter {
            position = resumeAfter
        } else {
            position = try await store.inboxPosition(tenantID: tenantID, subscriberID: subscriberID)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: InboxUpdate.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        let connection = registry.add(key: key, position: position, continuation: continuation)
        let registry = self.registry
        continuation.onTermination = { _ in registry.remove(connection) }
        enqueue(.opened(connection))
        return InboxSubscription(updates: stream, connection: connection)
    }

    /// Live connections right now, for metrics and tests.
    public var connectionCount: Int { registry.count }

    /// Closes every connection (the server is shutting down); clients reconnect elsewhere and resume.
    public func closeAll() {
        for connection in registry.all() { connection.close() }
    }

    /// Tells the hub that in-app messages reached these subscribers' inboxes through some other path
    /// (another node, say); their connections are sent what they have not seen.
    public func inboxesChanged(_ keys: [Key]) {
        let open = keys.filter { registry.contains($0) }
        if !open.isEmpty { enqueue(.delivered(open)) }
    }

    public func recorded(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async {
        // A million-member fan-out with nobody watching costs one check per batch.
        guard !registry.isEmpty else { return }
        var keyByRow: [Int64: Key] = [:]
        for message in batch.messages where message.channel == .inApp {
            keyByRow[message.rowID] = Key(tenantID: message.tenantID, subscriberID: message.subscriber.id)
        }
        var keys = Set<Key>()
        for outcome in outcomes where outcome.status == .delivered && outcome.inbox != nil {
            if let key = keyByRow[outcome.rowID], registry.contains(key) { keys.insert(key) }
        }
        if !keys.isEmpty { enqueue(.delivered(Array(keys))) }
    }

    public func inboxChanged(_ change: InboxChange) async {
        if registry.contains(Key(tenantID: change.tenantID, subscriberID: change.subscriberID)) { enqueue(.changed(change)) }
    }
}
