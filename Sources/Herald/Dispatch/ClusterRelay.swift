import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Carries wake-ups and live-inbox changes between the nodes that share a database.
///
/// Outgoing: what this node triggers, delivers in-app or sees read is collected and sent as one
/// ``ClusterSignal`` per turn (many triggers in a burst cost one notification). Incoming: another node's
/// signal rings this node's dispatchers and pushes its inbox changes to the connections open here. Idle
/// dispatchers still poll slowly, so a lost notification only delays work by one poll interval.
public final class ClusterRelay: Service, DeliveryObserver, Sendable {
    let store: any Store
    let signal: WakeSignal
    let hub: InboxHub
    let logger: Logger
    private let pending = Mutex(ClusterSignal())
    private let outgoing = Wakeup()

    public init(store: any Store, signal: WakeSignal, hub: InboxHub, logger: Logger) {
        self.store = store
        self.signal = signal
        self.hub = hub
        self.logger = logger
    }

    /// New work was committed here: other nodes' dispatchers should look.
    func workAdded() {
        pending.withLock { $0.work = true }
        outgoing.ring()
    }

    public func recorded(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async {
        var keyByRow: [Int64: InboxHub.Key] = [:]
        for message in batch.messages where message.channel == .inApp {
            keyByRow[message.rowID] = InboxHub.Key(tenantID: message.tenantID, subscriberID: message.subscriber.id)
        }
        var keys = Set<InboxHub.Key>()
        for outcome in outcomes where outcome.status == .delivered && outcome.inbox != nil {
            if let key = keyByRow[outcome.rowID] { keys.insert(key) }
        }
        guard !keys.isEmpty else { return }
        pending.withLock { $0.delivered += keys }
        outgoing.ring()
    }

    public func inboxChanged(_ change: InboxChange) async {
        pending.withLock { $0.changes.append(change) }
        outgoing.ring()
    }

    public func run() async throws {
        // Nothing to finish on shutdown: what was not sent, the other nodes find at their next poll.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.listen() }
                group.addTask { await self.send() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func send() async {
        while !Task.isCancelled {
            await outgoing.wait(upTo: 1)
            let signal = pending.withLock { pending -> ClusterSignal in
                defer { pending = ClusterSignal() }
                return pending
            }
            guard !signal.isEmpty else { continue }
            do {
                try await store.broadcast(signal)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("could not signal the other nodes; they will find the work at their next poll", metadata: ["error": "\(error)"])
            }
        }
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                try await store.listen { signal in
                    if signal.work { self.signal.ringHere() }
                    self.hub.inboxesChanged(signal.delivered)
                    for change in signal.changes { await self.hub.inboxChanged(change) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("lost the other nodes' signals; listening again", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
