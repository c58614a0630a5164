import Foundation

/// Sends emails through one SMTP server over its pool of warm connections.
///
/// A batch is split across up to `maxConnections` connections that send in parallel; each connection
/// runs its share one transaction after another (pipelined when the server allows). A recipient's 4xx
/// or 5xx touches only that email: the connection is reset and carries on with the next.
public struct SMTPTransport: EmailTransport {
    public let pool: SMTPConnectionPool

    public init(pool: SMTPConnectionPool) {
        self.pool = pool
    }

    public var name: String { "\(pool.server)" }

    public func send(_ emails: [OutboundEmail]) async -> [EmailSendOutcome] {
        guard !emails.isEmpty else { return [] }
        let lanes = min(pool.server.maxConnections, emails.count)
        let share = (emails.count + lanes - 1) / lanes
        var outcomes = [EmailSendOutcome](repeating: .transientFailure("not sent"), count: emails.count)
        await withTaskGroup(of: (Int, [EmailSendOutcome]).self) { group in
            for start in stride(from: 0, to: emails.count, by: share) {
                let slice = Array(emails[start..<min(start + share, emails.count)])
                group.addTask { (start, await self.sendInOrder(slice)) }
            }
            for await (start, results) in group {
                for (offset, outcome) in results.enumerated() { outcomes[start + offset] = outcome }
            }
        }
        return outcomes
    }

    /// Sends on one leased connection; if the connection breaks, the rest go on a fresh one (once).
    func sendInOrder(_ emails: [OutboundEmail]) async -> [EmailSendOutcome] {
        var outcomes: [EmailSendOutcome] = []
        outcomes.reserveCapacity(emails.count)
        var reconnects = 0
        while outcomes.count < emails.count {
            let remaining = Array(emails[outcomes.count...])
            do {
                let sent = try await pool.withConnection { connection in
                    var done: [EmailSendOutcome] = []
                    for email in remaining {
                        do {
                            let result = try await connection.send(from: email.sender, to: [email.recipient], message: email.bytes)
                            done.append(Self.outcome(result))
                        } catch {
                            // The connection failed mid-transaction: whether this email arrived is unknown,
                            // so it is retried later; the ones after it get a fresh connection.
                            done.append(.transientFailure(String(describing: error)))
                            return done
                        }
                    }
                    return done
                }
                outcomes += sent
                if outcomes.count < emails.count {
                    reconnects += 1
                    if reconnects > 1 { break }
                }
            } catch {
                // No connection could be had (the server is down, TLS or AUTH refused): all remaining wait for a retry,
                // or fail for good when the server said a permanent no.
                let detail = String(describing: error)
                let outcome: EmailSendOutcome
                switch error as? SMTPError {
                case .serverUnavailable(_, let retryAfter): outcome = .deferred(detail, retryAfter: retryAfter)
                case let smtp? where !smtp.isTransient: outcome = .permanentFailure(detail)
                default: outcome = .transientFailure(detail)
                }
                outcomes += remaining.map { _ in outcome }
            }
        }
        while outcomes.count < emails.count { outcomes.append(.transientFailure("the SMTP connection failed twice in one batch")) }
        return outcomes
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
