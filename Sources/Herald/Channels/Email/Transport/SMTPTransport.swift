import Foundation

/// Sends emails through one SMTP server over its pool of warm connections.
///
/// A batch is sent by up to as many lanes as the pool lets its emails' priority hold connections; each lane
/// takes the next email from a queue shared by the batch, most urgent first, and runs it on its leased
/// connection (MAIL, RCPT and DATA pipelined when the server allows). A recipient's 4xx or 5xx touches only
/// that email: the connection is reset and carries on with the next.
///
/// A lane keeps its connection from one email to the next only while nobody more urgent waits for one: between
/// two transactions it gives the connection back when ``SMTPConnectionPool/isWanted(byMoreUrgentThan:)`` says
/// so, and leases again at the next email's priority. So a critical email waits for at most the transaction
/// already on the wire, never for the rest of a bulk batch (and, with two connections or more, not even that:
/// one is kept for critical and high email).
public struct SMTPTransport: EmailTransport {
    public let pool: SMTPConnectionPool

    public init(pool: SMTPConnectionPool) {
        self.pool = pool
    }

    public var name: String { "\(pool.server)" }

    public func send(_ emails: [OutboundEmail]) async -> [EmailSendOutcome] {
        guard let leastUrgent = emails.map(\.priority).max() else { return [] }
        // More lanes than the least urgent email may hold connections would only park in the pool's queue.
        let lanes = max(1, min(emails.count, pool.connectionLimit(for: leastUrgent)))
        let queue = SMTPSendQueue(priorities: emails.map(\.priority))
        var outcomes = [EmailSendOutcome](repeating: .transientFailure("not sent"), count: emails.count)
        await withTaskGroup(of: [(Int, EmailSendOutcome)].self) { group in
            for _ in 0..<lanes { group.addTask { await self.runLane(emails, queue: queue) } }
            for await results in group {
                for (index, outcome) in results { outcomes[index] = outcome }
            }
        }
        let (leftOver, outcome) = queue.leftOver()
        for index in leftOver { outcomes[index] = outcome }
        return outcomes
    }

    /// Sends emails from the queue until it is empty, on one leased connection at a time. Gives up when no
    /// connection can be had, or when connections broke twice under it; the other lanes carry on.
    func runLane(_ emails: [OutboundEmail], queue: SMTPSendQueue) async -> [(Int, EmailSendOutcome)] {
        var done: [(Int, EmailSendOutcome)] = []
        var lease: (connection: SMTPConnection, priority: Priority)?
        var broken = 0
        while let index = queue.take() {
            let email = emails[index]
            if let held = lease, PriorityPoolStateMachine<SMTPConnection>.Urgency(held.priority) != .init(email.priority)
                || pool.isWanted(byMoreUrgentThan: held.priority)
            {
                // Someone more urgent waits, or this email is of another class than the lease: back to the pool,
                // which hands it to the most urgent caller, then lease again at this email's priority.
                await pool.release(held.connection, priority: held.priority)
                lease = nil
            }
            let connection: SMTPConnection
            if let held = lease {
                connection = held.connection
            } else {
                do {
                    connection = try await pool.lease(priority: email.priority)
                    lease = (connection, email.priority)
                } catch {
                    // No connection could be had (the server is down, TLS or AUTH refused): this email waits for a
                    // retry, or fails for good when the server said a permanent no; so do the ones no lane sends.
                    let outcome = Self.outcome(leaseError: error)
                    done.append((index, outcome))
                    queue.laneGaveUp(outcome)
                    return done
                }
            }
            do {
                let result = try await connection.send(from: email.sender, to: [email.recipient], message: email.bytes)
                done.append((index, Self.outcome(result)))
            } catch {
                // The connection failed mid-transaction: whether this email arrived is unknown, so it is retried
                // later; the next ones get a fresh connection, once.
                done.append((index, .transientFailure(String(describing: error))))
                if let held = lease { await pool.release(held.connection, priority: held.priority) }
                lease = nil
                broken += 1
                if broken > 1 {
                    queue.laneGaveUp(.transientFailure("the SMTP connection failed twice in one batch"))
                    return done
                }
            }
        }
        if let held = lease { await pool.release(held.connection, priority: held.priority) }
        return done
    }

    /// What the emails of a lane that could not lease a connection get.
    static func outcome(leaseError error: any Error) -> EmailSendOutcome {
        let detail = String(describing: error)
        switch error as? SMTPError {
        case .serverUnavailable(_, let retryAfter): return .deferred(detail, retryAfter: retryAfter)
        case let smtp? where !smtp.isTransient: return .permanentFailure(detail)
        default: return .transientFailure(detail)
        }
    }

    static func outcome(_ result: SMTPTransactionResult) -> EmailSendOutcome {
        guard let recipient = result.recipients.first else { return .transientFailure("no recipient result") }
        switch recipient.reply.kind {
        case .positiveCompletion, .positiveIntermediate: return .accepted(recipient.reply.description)
        case .transientNegative: return .transientFailure(recipient.reply.description)
        case .permanentNegative: return .permanentFailure(recipient.reply.description)
        }
    }
}
