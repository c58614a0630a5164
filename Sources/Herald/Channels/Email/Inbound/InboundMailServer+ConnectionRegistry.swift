import NIOCore
import Synchronization

extension InboundMailServer {
    /// The open connections, counted against the limit, so shutdown can reach each of them.
    final class ConnectionRegistry: Sendable {
        private struct State {
            var channels: [ObjectIdentifier: any Channel] = [:]
            var accepting = true
        }

        private let limit: Int
        private let state = Mutex(State())

        init(limit: Int) { self.limit = max(1, limit) }

        var count: Int { state.withLock { $0.channels.count } }

        /// Counts the channel in, unless the limit is reached or the server is stopping.
        func admit(_ channel: any Channel) -> Bool {
            state.withLock { state in
                guard state.accepting, state.channels.count < limit else { return false }
                state.channels[ObjectIdentifier(channel)] = channel
                return true
            }
        }

        func remove(_ channel: any Channel) {
            _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        /// Admits no more; answers the connections still open.
        func stopAccepting() -> [any Channel] {
            state.withLock { state in
                state.accepting = false
                return Array(state.channels.values)
            }
        }
    }
}
