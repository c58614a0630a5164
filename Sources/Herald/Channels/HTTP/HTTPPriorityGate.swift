import Synchronization

/// Requests in flight per host, by priority. The HTTP client keeps at most ``capacity`` connections per host
/// and hands them to requests first come, first served; this gate lets at most that many requests to a host be
/// in flight, keeps ``reserved`` of them for critical and high requests, and admits waiters most urgent first
/// (the rules of ``PriorityPoolStateMachine``, over slots instead of sockets). So a critical push, webhook, chat
/// message or SMS never queues for a connection behind a bulk backlog to the same provider: the most it waits
/// is for a slot, and bulk never holds the reserved ones.
///
/// A host that answers over HTTP/2 (APNs, FCM, most push services) multiplexes every request on one connection,
/// with no connection to queue for: once a response says so, its requests pass without a slot, so a push
/// backlog keeps its hundreds of concurrent streams.
final class HTTPPriorityGate: Sendable {
    /// The gate every outbound request goes through: one per process, as the HTTP client is.
    static let shared = HTTPPriorityGate(capacity: OutboundHTTPClient.connectionsPerHost, reserved: 4)

    private typealias Machine = PriorityPoolStateMachine<Void>

    private struct WaiterKey: Hashable {
        let host: String
        let id: Machine.WaiterID
    }

    private struct State {
        var hosts: [String: Machine] = [:]
        var waiters: [WaiterKey: CheckedContinuation<Void, Never>] = [:]
        /// Hosts seen to answer over HTTP/2, at most ``multiplexedLimit`` (the hosts are tenants' URLs: when full,
        /// the set starts again, and a forgotten host takes slots until its next answer).
        var multiplexed: Set<String> = []
    }

    static let multiplexedLimit = 10_000

    let capacity: Int
    let reserved: Int
    private let state = Mutex(State())

    init(capacity: Int, reserved: Int) {
        self.capacity = capacity
        self.reserved = reserved
    }

    /// Runs `body` holding one of `host`'s slots at `priority`, waiting for one first if need be.
    func withSlot<T>(host: String, priority: Priority, _ body: () async throws -> T) async rethrows -> T {
        guard await acquire(host: host, priority: priority) else { return try await body() }
        defer { release(host: host, priority: priority) }
        return try await body()
    }

    /// `host` answered over HTTP/2: from now on its requests need no slot.
    func hostMultiplexes(_ host: String) {
        state.withLock { state in
            if state.multiplexed.count >= Self.multiplexedLimit, !state.multiplexed.contains(host) { state.multiplexed.removeAll() }
            state.multiplexed.insert(host)
        }
    }

    /// Requests to `host` in flight (slots held) and waiting, for tests and the performance page.
    func load(host: String) -> (held: Int, waiting: Int) {
        state.withLock { state in
            guard let machine = state.hosts[host] else { return (0, 0) }
            return (machine.openCount, machine.waiters.count)
        }
    }

    /// Takes a slot, waiting if need be; false when `host` needs none.
    private func acquire(host: String, priority: Priority) async -> Bool {
        if state.withLock({ $0.multiplexed.contains(host) }) { return false }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                var machine = state.hosts[host] ?? Machine(capacity: capacity, reserved: reserved)
                defer { state.hosts[host] = machine }
                switch machine.lease(priority) {
                case .use, .connect, .fail:
                    return true
                case .wait(let id):
                    state.waiters[WaiterKey(host: host, id: id)] = continuation
                    return false
                }
            }
            if admitted { continuation.resume() }
        }
        return true
    }

    private func release(host: String, priority: Priority) {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var machine = state.hosts[host] else { return [] }
            // A slot is never kept idle: it is handed to a waiter allowed to hold it, or freed.
            let handovers = machine.release((), priority: priority, reusable: false)
            var resumed: [CheckedContinuation<Void, Never>] = []
            for handover in handovers {
                let id: Machine.WaiterID
                switch handover {
                case .take(_, let waiter), .connect(let waiter): id = waiter
                }
                if let continuation = state.waiters.removeValue(forKey: WaiterKey(host: host, id: id)) { resumed.append(continuation) }
            }
            if machine.openCount == 0, machine.waiters.isEmpty {
                state.hosts[host] = nil
            } else {
                state.hosts[host] = machine
            }
            return resumed
        }
        for continuation in resumed { continuation.resume() }
    }
}
