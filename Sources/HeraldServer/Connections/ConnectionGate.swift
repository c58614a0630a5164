import Logging
import NIOCore
import Synchronization

/// Admits a new connection while fewer than the cap are open, and closes it as soon as it is accepted
/// otherwise, so a flood costs one accept and one close per connection rather than queueing in the
/// listen backlog (where Hummingbird's own limit leaves them) or running the process out of file
/// descriptors. One gate per server, shared by its event loops.
///
/// The decision is taken on the listening channel, in the order the kernel hands connections over
/// (``AcceptOrder``): each accepted connection is then set up on its own event loop, and were the count
/// taken there, two loops would race and a connection accepted after the cap was reached could take the
/// place of one accepted before it.
final class ConnectionGate: Sendable {
    private struct State {
        var cap: ConnectionCap
        /// Decisions taken in accept order, waiting for their connection's setup.
        var decided: [ObjectIdentifier: Bool] = [:]
    }

    private let state: Mutex<State>
    private let logger: Logger
    private let onRefusal: @Sendable () -> Void

    /// - Parameter onRefusal: called for every refused connection (a metrics counter).
    init(limit: Int, logger: Logger, onRefusal: @escaping @Sendable () -> Void = {}) {
        self.state = Mutex(State(cap: ConnectionCap(limit: limit)))
        self.logger = logger
        self.onRefusal = onRefusal
    }

    var limit: Int { state.withLock { $0.cap.limit } }
    var open: Int { state.withLock { $0.cap.open } }

    /// Whether `channel` may stay, decided once: in accept order by ``AcceptOrder`` where it sees the
    /// connection, otherwise here (a connection accepted before the handler was in place). A refused
    /// channel is closed; an admitted one is counted out when it closes.
    func admit(_ channel: any Channel) -> Bool {
        let earlier = state.withLock { $0.decided.removeValue(forKey: ObjectIdentifier(channel)) }
        let admitted = earlier ?? decide(channel)
        if !admitted { channel.close(promise: nil) }
        return admitted
    }

    /// Counts `channel` in against the cap, or counts a refusal.
    private func decide(_ channel: any Channel) -> Bool {
        let (admitted, notice) = state.withLock { $0.cap.opened() }
        report(notice)
        guard admitted else {
            onRefusal()
            return false
        }
        channel.closeFuture.whenComplete { _ in
            let notice = self.state.withLock { $0.cap.closed() }
            self.report(notice)
        }
        return true
    }

    /// Decides for `channel` now, as it is accepted; its setup picks the decision up.
    fileprivate func decideOnAccept(_ channel: any Channel) {
        let admitted = decide(channel)
        let key = ObjectIdentifier(channel)
        state.withLock { $0.decided[key] = admitted }
        // A connection whose setup never runs (its registration failed) leaves no decision behind.
        channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.decided.removeValue(forKey: key) } }
    }

    private func report(_ notice: ConnectionCap.Notice) {
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

extension ConnectionGate {
    /// On the listening channel, ahead of NIO's accept handler: sees each accepted connection, in order,
    /// on the listening channel's event loop, and has the gate decide for it there.
    final class AcceptOrder: ChannelInboundHandler, Sendable {
        typealias InboundIn = any Channel
        typealias InboundOut = any Channel

        private let gate: ConnectionGate

        init(gate: ConnectionGate) {
            self.gate = gate
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            gate.decideOnAccept(unwrapInboundIn(data))
            context.fireChannelRead(data)
        }
    }
}
