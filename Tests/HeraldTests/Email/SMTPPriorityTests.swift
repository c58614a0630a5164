import Foundation
import Testing

@testable import Herald

/// Critical email over a real socket: the server holds bulk messages on the wire until the test opens its gate,
/// and the order in which it accepted messages shows whether the critical one waited behind them.
@Suite("SMTP priority to the wire")
struct SMTPPriorityTests {
    static func pool(_ server: GatedSMTPServer, maxConnections: Int) throws -> SMTPConnectionPool {
        try SMTPConnectionPool(
            server: SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .none, maxConnections: maxConnections, timeoutSeconds: 30),
            heloName: "priority.test")
    }

    static func email(_ recipient: String, _ priority: Priority) -> OutboundEmail {
        let bytes = Array("From: herald@example.com\r\nTo: \(recipient)\r\nSubject: \(priority)\r\n\r\nHello\r\n".utf8)
        return OutboundEmail(
            sender: "herald@example.com", recipient: recipient, messageID: "\(recipient).\(UUID().uuidString)", bytes: bytes, priority: priority)
    }

    static func bulk(_ count: Int, held: Bool = true) -> [OutboundEmail] {
        (0..<count).map { email("\(held ? "held" : "bulk")-\($0)@example.com", .low) }
    }

    static func accepted(_ outcomes: [EmailSendOutcome]) -> Bool {
        outcomes.allSatisfy { if case .accepted = $0 { true } else { false } }
    }

    /// A safety net, not an assertion: if the test's expectation fails by waiting, the gate opens after a while
    /// so the test ends and reports the order instead of hanging.
    static func openGateEventually(_ server: GatedSMTPServer) -> Task<Void, Never> {
        Task {
            try? await Task.sleep(for: .seconds(20))
            server.openGate()
        }
    }

    @Test func withTwoConnectionsACriticalEmailIsAcceptedWhileBulkHoldsTheOther() async throws {
        let server = try await GatedSMTPServer.start()
        let pool = try Self.pool(server, maxConnections: 2)
        let transport = SMTPTransport(pool: pool)
        let safety = Self.openGateEventually(server)
        defer { safety.cancel() }
        // Two bulk batches at once, as two dispatcher lanes send them: the second may not take the other connection.
        let first = Task { await transport.send(Self.bulk(5)) }
        let second = Task { await transport.send(Self.bulk(5)) }
        let deadline = ContinuousClock.now + .seconds(20)
        while server.waitingAtGate + (await pool.waitingCallers) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }

        let critical = await transport.send([Self.email("alert@example.com", .critical)])
        // Accepted while a bulk transaction is held on the wire: it took the connection kept for urgent email.
        #expect(Self.accepted(critical))
        #expect(server.accepted == ["alert@example.com"])
        #expect(server.waitingAtGate == 1, "bulk never held more than its share of one connection")

        server.openGate()
        #expect(Self.accepted(await first.value))
        #expect(Self.accepted(await second.value))
        #expect(server.accepted.count == 11 && server.connections == 2)
        await pool.shutdown()
        await server.stop()
    }

    @Test func withOneConnectionBulkGivesItBackAfterTheTransactionOnTheWire() async throws {
        let server = try await GatedSMTPServer.start()
        let pool = try Self.pool(server, maxConnections: 1)
        let transport = SMTPTransport(pool: pool)
        let safety = Self.openGateEventually(server)
        defer { safety.cancel() }
        let bulk = Task { await transport.send(Self.bulk(5)) }
        #expect(try await SMTPHarness.eventually(timeout: 20) { server.waitingAtGate == 1 })

        let critical = Task { await transport.send([Self.email("alert@example.com", .critical)]) }
        // Parked at the pool behind the bulk transaction on the wire.
        #expect(try await SMTPHarness.eventually(timeout: 20) { pool.isWanted(byMoreUrgentThan: .low) })
        server.openGate()
        #expect(Self.accepted(await critical.value))
        #expect(Self.accepted(await bulk.value))
        // Only the transaction already on the wire went before the critical email; the rest of the bulk after it.
        #expect(server.accepted == ["held-0@example.com", "alert@example.com"] + (1..<5).map { "held-\($0)@example.com" })
        #expect(server.connections == 1)
        await pool.shutdown()
        await server.stop()
    }

    @Test func inOneBatchTheCriticalEmailGoesFirstAndHighBeforeTheRest() async throws {
        let server = try await GatedSMTPServer.start()
        let pool = try Self.pool(server, maxConnections: 1)
        let transport = SMTPTransport(pool: pool)
        var batch = Self.bulk(3, held: false)
        batch.insert(Self.email("later@example.com", .high), at: 1)
        batch.append(Self.email("alert@example.com", .critical))
        let outcomes = await transport.send(batch)
        #expect(Self.accepted(outcomes) && outcomes.count == 5)
        #expect(
            server.accepted == [
                "alert@example.com", "later@example.com", "bulk-0@example.com", "bulk-1@example.com", "bulk-2@example.com",
            ])
        await pool.shutdown()
        await server.stop()
    }
}
