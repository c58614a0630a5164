import Foundation
import NIOSSL
import Synchronization

/// Warm SMTP connections to one server, at most `maxConnections` at a time.
///
/// A caller leases a connection, runs as many transactions as it likes, and gives it back; the next
/// caller reuses the open, authenticated session instead of paying for TCP, TLS and AUTH again.
/// Connections the server dropped are noticed and replaced; idle ones are closed after the idle timeout.
///
/// A lease carries the priority of the email it is for. Which caller gets which connection is the
/// ``PriorityPoolStateMachine``'s decision: the most urgent waiter first, and one connection kept for critical and
/// high email when there are two or more, so an emergency never queues behind a bulk backlog for a connection.
/// ``isWanted(byMoreUrgentThan:)`` tells a lease, without a hop onto the actor, to give its connection back
/// between two transactions.
public actor SMTPConnectionPool {
    public nonisolated let server: SMTPServerConfiguration
    nonisolated let heloName: String
    nonisolated let tlsContext: NIOSSLContext?
    /// The guard for a server a tenant named: each connect goes only to addresses it vetted. Nil for the operator's
    /// own servers, which are configuration rather than tenant input.
    public nonisolated let destinationPolicy: DestinationPolicy?
    private var machine: PriorityPoolStateMachine<SMTPConnection>
    /// Parked callers, by the id the state machine gave them.
    private var waiting: [PriorityPoolStateMachine<SMTPConnection>.WaiterID: CheckedContinuation<Handed, Never>] = [:]
    /// The state machine's most urgent waiting class (its raw value), or `Int.max` when nobody waits; read by
    /// leases between transactions without a hop onto the actor.
    private nonisolated let mostUrgentWaiting = Atomic<Int>(Int.max)
    /// The circuit breaker: after a failed connect, no new connect before this instant.
    private var unavailableUntil: ContinuousClock.Instant?
    private var consecutiveConnectFailures = 0
    private var lastConnectError = ""
    /// Longest wait between connect attempts while the server is down.
    static let maximumBackoffSeconds = 15.0
    /// Connections opened over the pool's life, for transcripts and tests.
    public private(set) var connectionsOpened = 0

    /// What a parked caller is resumed with.
    private enum Handed {
        case connection(SMTPConnection)
        case connect
        case shutDown
    }

    public init(server: SMTPServerConfiguration, heloName: String, destinationPolicy: DestinationPolicy? = nil) throws {
        self.server = server
        self.heloName = heloName
        self.destinationPolicy = destinationPolicy
        self.tlsContext = try SMTPConnection.makeTLSContext(for: server)
        self.machine = PriorityPoolStateMachine(capacity: server.maxConnections)
    }

    /// Runs `body` with a connection leased at `priority` and gives the connection back afterwards (closed if it broke).
    public nonisolated func withConnection<T: Sendable>(
        priority: Priority = .medium, _ body: @Sendable (SMTPConnection) async throws -> T
    ) async throws -> T {
        let connection = try await lease(priority: priority)
        do {
            let result = try await body(connection)
            await release(connection, priority: priority)
            return result
        } catch {
            await release(connection, priority: priority)
            throw error
        }
    }

    /// How many connections leases of `priority` may hold at once: all of them for critical and high, one
    /// fewer for the rest when there are two or more.
    public nonisolated func connectionLimit(for priority: Priority) -> Int {
        PriorityPoolStateMachine<SMTPConnection>(capacity: server.maxConnections).limit(for: priority)
    }

    /// Whether a caller more urgent than `priority` is waiting for a connection: a lease at `priority` should
    /// then give its connection back before its next transaction.
    public nonisolated func isWanted(byMoreUrgentThan priority: Priority) -> Bool {
        mostUrgentWaiting.load(ordering: .relaxed) < PriorityPoolStateMachine<SMTPConnection>.Urgency(priority).rawValue
    }

    /// A connection for an email of `priority`: an idle one, a new one, or one given back by another lease,
    /// whichever the state machine decides. Give it back with ``release(_:priority:)`` and the same priority.
    public func lease(priority: Priority) async throws -> SMTPConnection {
        let action = machine.lease(priority)
        publishWaiting()
        switch action {
        case .fail:
            throw SMTPError.connectionFailed("the SMTP pool is shut down")
        case .use(let connection):
            if connection.isUsable { return connection }
            // Dropped by the server while idle: a new connection takes its slot.
            connection.close()
            return try await connect(priority: priority)
        case .connect:
            return try await connect(priority: priority)
        case .wait(let id):
            switch await withCheckedContinuation({ waiting[id] = $0 }) {
            case .shutDown:
                throw SMTPError.connectionFailed("the SMTP pool is shut down")
            case .connection(let connection):
                if connection.isUsable { return connection }
                connection.close()
                return try await connect(priority: priority)
            case .connect:
                return try await connect(priority: priority)
            }
        }
    }

    /// Opens a connection in a slot the state machine already counted for this caller; gives the slot back if
    /// the server cannot be reached (or was unreachable moments ago).
    private func connect(priority: Priority) async throws -> SMTPConnection {
        if let until = unavailableUntil, case let now = ContinuousClock.now, now < until {
            perform(machine.connectFailed(priority: priority))
            let remaining = now.duration(to: until)
            throw SMTPError.serverUnavailable(
                lastConnectError, retryAfter: Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18)
        }
        let connection: SMTPConnection
        do {
            let addresses = try await vettedAddresses()
            connection = try await SMTPConnection.connect(to: server, tlsContext: tlsContext, heloName: heloName, addresses: addresses)
        } catch {
            perform(machine.connectFailed(priority: priority))
            if case .connectionFailed(let detail) = error as? SMTPError {
                // Refused or unreachable: back off 0.5 s, 1 s, 2 s … up to the maximum before connecting again.
                consecutiveConnectFailures += 1
                let backoff = min(Self.maximumBackoffSeconds, 0.5 * pow(2, Double(consecutiveConnectFailures - 1)))
                unavailableUntil = .now + Seconds(clamping: backoff).duration
                lastConnectError = detail
                throw SMTPError.serverUnavailable(detail, retryAfter: backoff)
            }
            throw error
        }
        connectionsOpened += 1
        consecutiveConnectFailures = 0
        unavailableUntil = nil
        if machine.isShutDown {
            // Shut down while connecting: the pool would only close it when it came back.
            perform(machine.connectFailed(priority: priority))
            await connection.quit()
            throw SMTPError.connectionFailed("the SMTP pool is shut down")
        }
        return connection
    }

    /// Resumes the waiters the state machine chose, and publishes who is still waiting.
    private func perform(_ handovers: [PriorityPoolStateMachine<SMTPConnection>.Handover]) {
        for handover in handovers {
            switch handover {
            case .take(let connection, let id): waiting.removeValue(forKey: id)?.resume(returning: .connection(connection))
            case .connect(let id): waiting.removeValue(forKey: id)?.resume(returning: .connect)
            }
        }
        publishWaiting()
    }

    private func publishWaiting() {
        mostUrgentWaiting.store(machine.mostUrgentWaiting?.rawValue ?? Int.max, ordering: .relaxed)
    }

    /// The addresses the destination policy allows for the server, or nil to connect by name. A refused address
    /// fails for good (another try would be refused too); a name that does not resolve is a failed connect.
    private func vettedAddresses() async throws -> [IPAddress]? {
        guard let destinationPolicy else { return nil }
        do {
            return try await destinationPolicy.vet(host: server.host)
        } catch let refusal as DestinationRefusal {
            throw SMTPError.unsupported("refused destination: \(refusal.reason)")
        } catch {
            throw SMTPError.connectionFailed("\(server.host):\(server.port): cannot resolve: \(error)")
        }
    }

    /// Gives back a connection leased at `priority`: to the most urgent waiter allowed to hold it, or to idle;
    /// closed (and its slot offered) when it broke or the pool is shut down.
    public func release(_ connection: SMTPConnection, priority: Priority) {
        let reusable = connection.isUsable && !machine.isShutDown
        if !reusable { connection.close() }
        perform(machine.release(connection, priority: priority, reusable: reusable))
    }

    /// Closes connections idle longer than the idle timeout, saying QUIT first.
    public func closeIdle(now: ContinuousClock.Instant = .now) async {
        let limit = Seconds(clamping: server.idleTimeoutSeconds).duration
        let (expired, handovers) = machine.removeIdle { now - $0.lastUsed.withLock { $0 } >= limit || !$0.isUsable }
        perform(handovers)
        for connection in expired { await connection.quit() }
    }

    /// Says QUIT on every idle connection and refuses new leases; leased ones close when returned.
    public func shutdown() async {
        let (closing, failing) = machine.shutDown()
        for id in failing { waiting.removeValue(forKey: id)?.resume(returning: .shutDown) }
        publishWaiting()
        for connection in closing { await connection.quit() }
    }

    /// Whether connects are being held back because the server was unreachable moments ago.
    public var isCircuitOpen: Bool {
        guard let until = unavailableUntil else { return false }
        return ContinuousClock.now < until
    }

    /// Callers parked for a connection right now.
    var waitingCallers: Int { machine.waiters.count }

    /// Connections open right now (idle or leased).
    public var openConnections: Int { machine.openCount }
}
