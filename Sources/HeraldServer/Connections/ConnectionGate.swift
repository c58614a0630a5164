import Logging
import NIOCore
import Synchronization

/// Admits a new connection while fewer than the cap are open, and closes it as soon as it is accepted
/// otherwise, so a flood costs one accept and one close per connection rather than queueing in the
/// listen backlog (where Hummingbird's own limit leaves them) or running the process out of file
/// descriptors. One gate per server, shared by its event loops.
final class ConnectionGate: Sendable {
    private let cap: Mutex<ConnectionCap>
    private let onRefusal: @Sendable () -> Void

    /// - Parameter onRefusal: called for every refused connection (a metrics counter).
    init(limit: Int, onRefusal: @escaping @Sendable () -> Void = {}) {
        self.cap = Mutex(ConnectionCap(limit: limit))
        self.onRefusal = onRefusal
    }

    var limit: Int { cap.withLock { $0.limit } }
    var open: Int { cap.withLock { $0.open } }

    /// Counts `channel` in and has it counted out when it closes, or closes it at once when the cap is
    /// reached. Returns whether it was admitted.
    func admit(_ channel: any Channel, logger: Logger) -> Bool {
        let (admitted, notice) = cap.withLock { $0.opened() }
        report(notice, logger)
        guard admitted else {
            onRefusal()
            channel.close(promise: nil)
            return false
        }
        channel.closeFuture.whenComplete { _ in
            let notice = self.cap.withLock { $0.closed() }
            self.report(notice, logger)
        }
        return true
    }

    private func report(_ notice: ConnectionCap.Notice, _ logger: Logger) {
        switch notice {
        case .quiet:
            break
        case .saturated(let open):
            logger.warning(
                """
                Connection limit reached: new connections are closed as soon as they are accepted until the count falls back \
                (server.max_connections, HERALD_MAX_CONNECTIONS)
                """,
                metadata: ["open": "\(open)", "max_connections": "\(limit)"])
        case .recovered(let refused, let open):
            logger.notice(
                "Connection limit: accepting new connections again",
                metadata: ["refused": "\(refused)", "open": "\(open)", "max_connections": "\(limit)"])
        }
    }
}
