/// The decisions of a pool of connections to one server, with no I/O: who takes an idle connection, who opens a
/// new one, who waits, and who is served next when a connection comes back. The SMTP pool runs one per server;
/// the outbound HTTP client runs one per host over request slots (``HTTPPriorityGate``).
///
/// Priority reaches the wire here. Waiters are served by urgency (critical, then high, then the rest, FIFO
/// within each), and `reserved` of the `capacity` connections are never held by medium- or low-priority
/// leases, so a critical or high message finds a connection free even behind a bulk backlog that fills every
/// other one. A lease can see that a more urgent caller is waiting (`mostUrgentWaiting`) and give its
/// connection back between two transactions: that bounds the wait of a critical email behind a high one, and
/// of every email when the pool has a single connection and nothing can be reserved.
///
/// `Connection` is generic so that the ordering and the reservation are tested without sockets; the pool
/// performs what this decides.
struct PriorityPoolStateMachine<Connection> {
    /// How a lease is ranked: medium and low are one class (bulk); critical and high each come before it.
    enum Urgency: Int, Comparable, Sendable {
        case critical = 0, high, bulk

        init(_ priority: Priority) {
            switch priority {
            case .critical: self = .critical
            case .high: self = .high
            case .medium, .low: self = .bulk
            }
        }

        static func < (lhs: Urgency, rhs: Urgency) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Names a parked caller, so the pool can resume the one this machine chose.
    struct WaiterID: Hashable, Sendable {
        let value: Int
    }

    /// What a caller asking for a connection does next.
    enum LeaseAction {
        /// Use this idle connection (the pool checks it still works, and opens another in its place if not).
        case use(Connection)
        /// Open a new connection: its slot is already counted for the caller.
        case connect
        /// Park until a ``Handover`` names this waiter.
        case wait(WaiterID)
        /// The pool is shut down.
        case fail
    }

    /// What a waiter is resumed with, after a release, a failed connect or a closed idle connection.
    enum Handover {
        /// Take this connection, which another lease gave back.
        case take(Connection, WaiterID)
        /// A slot is free: open a connection of its own.
        case connect(WaiterID)
    }

    struct Waiter {
        let id: WaiterID
        let urgency: Urgency
    }

    /// Connections open at most (idle, leased and being opened).
    let capacity: Int
    /// Connections that only critical and high leases may hold.
    let reserved: Int
    private(set) var idle: [Connection] = []
    /// Idle, leased and being opened.
    private(set) var openCount = 0
    /// Leases held (or connections being opened for one), by urgency.
    private var held: [Urgency: Int] = [:]
    /// Parked callers, most urgent first, FIFO within an urgency.
    private(set) var waiters: [Waiter] = []
    private var nextWaiter = 0
    private(set) var isShutDown = false

    /// With two connections or more, one is kept for critical and high email; with one, nothing can be
    /// (bulk would never be sent), and urgent email relies on leases giving their connection back.
    init(capacity: Int, reserved: Int? = nil) {
        self.capacity = max(1, capacity)
        self.reserved = min(max(0, reserved ?? (capacity >= 2 ? 1 : 0)), self.capacity - 1)
    }

    /// How many connections leases of `priority` may hold together with the less urgent ones.
    func limit(for priority: Priority) -> Int { limit(Urgency(priority)) }

    private func limit(_ urgency: Urgency) -> Int { urgency == .bulk ? capacity - reserved : capacity }

    /// Leases held at `urgency` or less urgent, the ones that count against its limit.
    private func heldAtOrBelow(_ urgency: Urgency) -> Int {
        held.reduce(0) { $0 + ($1.key >= urgency ? $1.value : 0) }
    }

    private func mayHoldAnother(_ urgency: Urgency) -> Bool { heldAtOrBelow(urgency) < limit(urgency) }

    /// Leases held right now at `priority`'s urgency.
    func leases(at priority: Priority) -> Int { held[Urgency(priority)] ?? 0 }

    /// The most urgent class among parked callers: a lease less urgent than it should give its connection
    /// back at the end of its transaction.
    var mostUrgentWaiting: Urgency? { waiters.first?.urgency }

    mutating func lease(_ priority: Priority) -> LeaseAction {
        if isShutDown { return .fail }
        let urgency = Urgency(priority)
        // Nobody as urgent is parked ahead (FIFO), and this class is within its share.
        if !waiters.contains(where: { $0.urgency <= urgency }), mayHoldAnother(urgency) {
            if let connection = idle.popLast() {
                held[urgency, default: 0] += 1
                return .use(connection)
            }
            if openCount < capacity {
                openCount += 1
                held[urgency, default: 0] += 1
                return .connect
            }
        }
        let waiter = Waiter(id: WaiterID(value: nextWaiter), urgency: urgency)
        nextWaiter += 1
        let position = waiters.firstIndex { $0.urgency > urgency } ?? waiters.endIndex
        waiters.insert(waiter, at: position)
        return .wait(waiter.id)
    }

    /// A lease of `priority` is over. A connection that still works goes to the most urgent waiter allowed to
    /// hold it, or back to idle; one that broke is closed by the caller and its slot is offered instead.
    mutating func release(_ connection: Connection, priority: Priority, reusable: Bool) -> [Handover] {
        held[Urgency(priority), default: 0] -= 1
        if reusable, !isShutDown {
            idle.append(connection)
        } else {
            openCount -= 1
        }
        return serveWaiters()
    }

    /// Opening a connection for a lease of `priority` failed (or was not tried, the server being down): its
    /// slot is free again.
    mutating func connectFailed(priority: Priority) -> [Handover] {
        held[Urgency(priority), default: 0] -= 1
        openCount -= 1
        return serveWaiters()
    }

    /// Takes the idle connections `isExpired` picks out of the pool; the caller closes them.
    mutating func removeIdle(where isExpired: (Connection) -> Bool) -> (removed: [Connection], handovers: [Handover]) {
        var removed: [Connection] = []
        var kept: [Connection] = []
        for connection in idle {
            if isExpired(connection) { removed.append(connection) } else { kept.append(connection) }
        }
        guard !removed.isEmpty else { return ([], []) }
        idle = kept
        openCount -= removed.count
        return (removed, serveWaiters())
    }

    /// Refuses new leases; answers the idle connections to close and the waiters to fail. Leased connections
    /// are closed as they come back.
    mutating func shutDown() -> (idle: [Connection], waiters: [WaiterID]) {
        isShutDown = true
        let closing = idle
        idle.removeAll()
        openCount -= closing.count
        let failing = waiters.map(\.id)
        waiters.removeAll()
        return (closing, failing)
    }

    /// Hands idle connections and free slots to the waiters that may hold them, most urgent first.
    private mutating func serveWaiters() -> [Handover] {
        var handovers: [Handover] = []
        while !isShutDown, let index = waiters.firstIndex(where: { mayHoldAnother($0.urgency) }) {
            let waiter = waiters[index]
            if let connection = idle.popLast() {
                handovers.append(.take(connection, waiter.id))
            } else if openCount < capacity {
                openCount += 1
                handovers.append(.connect(waiter.id))
            } else {
                break
            }
            waiters.remove(at: index)
            held[waiter.urgency, default: 0] += 1
        }
        return handovers
    }
}
