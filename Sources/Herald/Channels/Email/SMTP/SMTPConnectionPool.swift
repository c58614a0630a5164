import Foundation
import NIOSSL

/// Warm SMTP connections to one server, at most `maxConnections` at a time.
///
/// A caller leases a connection, runs as many transactions as it likes, and gives it back; the next
/// caller reuses the open, authenticated session instead of paying for TCP, TLS and AUTH again.
/// Connections the server dropped are noticed and replaced; idle ones are closed after the idle timeout.
public actor SMTPConnectionPool {
    public nonisolated let server: SMTPServerConfiguration
    nonisolated let heloName: String
    nonisolated let tlsContext: NIOSSLContext?
    /// The guard for a server a tenant named: each connect goes only to addresses it vetted. Nil for the operator's
    /// own servers, which are configuration rather than tenant input.
    public nonisolated let destinationPolicy: DestinationPolicy?
    private var idle: [SMTPConnection] = []
    private var openCount = 0
    /// Callers waiting for a connection; resumed with one to reuse, or nil to open their own.
    private var waiters: [CheckedContinuation<SMTPConnection?, Never>] = []
    private var isShutDown = false
    /// The circuit breaker: after a failed connect, no new connect before this instant.
    private var unavailableUntil: ContinuousClock.Instant?
    private var consecutiveConnectFailures = 0
    private var lastConnectError = ""
    /// Longest wait between connect attempts while the server is down.
    static let maximumBackoffSeconds = 15.0
    /// Connections opened over the pool's life, for transcripts and tests.
    public private(set) var connectionsOpened = 0

    public init(server: SMTPServerConfiguration, heloName: String, destinationPolicy: DestinationPolicy? = nil) throws {
        self.server = server
        self.heloName = heloName
        self.destinationPolicy = destinationPolicy
        self.tlsContext = try SMTPConnection.makeTLSContext(for: server)
    }

    /// Runs `body` with a leased connection and returns the connection afterwards (closed if it broke).
    public nonisolated func withConnection<T: Sendable>(_ body: @Sendable (SMTPConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    public func lease() async throws -> SMTPConnection {
        if isShutDown { throw SMTPError.connectionFailed("the SMTP pool is shut down") }
        while let connection = idle.popLast() {
            if connection.isUsable { return connection }
            openCount -= 1
            connection.close()
        }
        if openCount >= server.maxConnections {
            if let handed = await withCheckedContinuation({ waiters.append($0) }) { return handed }
            if isShutDown { throw SMTPError.connectionFailed("the SMTP pool is shut down") }
        }
        if let until = unavailableUntil, case let now = ContinuousClock.now, now < until {
            wakeWaiter()
            let remaining = now.duration(to: until)
            throw SMTPError.serverUnavailable(
                lastConnectError, retryAfter: Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18)
        }
        openCount += 1
        do {
            let addresses = try await vettedAddresses()
            let connection = try await SMTPConnection.connect(to: server, tlsContext: tlsContext, heloName: heloName, addresses: addresses)
            connectionsOpened += 1
            consecutiveConnectFailures = 0
            unavailableUntil = nil
            return connection
        } catch {
            openCount -= 1
            if case .connectionFailed(let detail) = error as? SMTPError {
                // Refused or unreachable: back off 0.5 s, 1 s, 2 s … up to the maximum before connecting again.
                consecutiveConnectFailures += 1
                let backoff = min(Self.maximumBackoffSeconds, 0.5 * pow(2, Double(consecutiveConnectFailures - 1)))
                unavailableUntil = .now + Seconds(clamping: backoff).duration
                lastConnectError = detail
                wakeWaiter()
                throw SMTPError.serverUnavailable(detail, retryAfter: backoff)
            }
            wakeWaiter()
            throw error
        }
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

    public func release(_ connection: SMTPConnection) {
        guard connection.isUsable, !isShutDown else {
            openCount -= 1
            connection.close()
            wakeWaiter()
            return
        }
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    /// A slot is free: let the first waiter open a connection of its own.
    private func wakeWaiter() {
        if !waiters.isEmpty { waiters.removeFirst().resume(returning: nil) }
    }

    /// Closes connections idle longer than the idle timeout, saying QUIT first.
    public func closeIdle(now: ContinuousClock.Instant = .now) async {
        let limit = Seconds(clamping: server.idleTimeoutSeconds).duration
        let expired = idle.filter { now - $0.lastUsed.withLock { $0 } >= limit || !$0.isUsable }
        guard !expired.isEmpty else { return }
        idle.removeAll { connection in expired.contains { $0 === connection } }
        openCount -= expired.count
        for connection in expired { await connection.quit() }
    }

    /// Says QUIT on every idle connection and refuses new leases; leased ones close when returned.
    public func shutdown() async {
        isShutDown = true
        let closing = idle
        idle.removeAll()
        openCount -= closing.count
        for connection in closing { await connection.quit() }
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }

    /// Whether connects are being held back because the server was unreachable moments ago.
    public var isCircuitOpen: Bool {
        guard let until = unavailableUntil else { return false }
        return ContinuousClock.now < until
    }

    /// Connections open right now (idle or leased).
    public var openConnections: Int { openCount }
}
