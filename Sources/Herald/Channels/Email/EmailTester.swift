import Foundation
import Synchronization

/// Sends one email outside the queue and reports every step, so a user can debug their settings:
/// `herald email test` prints the transcript as it happens, `POST /v1/event-types/{key}/test` returns it.
///
/// SMTP tests use a fresh connection rather than the pool, so the transcript shows the whole
/// conversation (greeting, EHLO, STARTTLS, AUTH with credentials masked, the transaction, QUIT).
public struct EmailTester: Sendable {
    public struct Result: Sendable, Codable, Hashable {
        public enum Outcome: String, Sendable, Codable {
            case accepted, transientFailure = "transient_failure", permanentFailure = "permanent_failure"
        }
        public var transport: String
        public var outcome: Outcome
        public var detail: String
        public var messageID: String
        public var transcript: [String]

        enum CodingKeys: String, CodingKey {
            case transport, outcome, detail, transcript
            case messageID = "message_id"
        }
    }

    public var heloName: String
    public var outboxDirectory: URL

    public init(heloName: String = ProcessInfo.processInfo.hostName, outboxDirectory: URL) {
        self.heloName = heloName.isEmpty ? "localhost" : heloName
        self.outboxDirectory = outboxDirectory
    }

    /// Sends `email` through `server`, or writes it to the outbox when `server` is nil.
    ///
    /// - Parameter addresses: for a server a tenant named, the addresses ``DestinationPolicy/vet(host:)`` approved;
    ///   the test connects to those and never resolves the name again. Nil connects by name (the operator's server).
    public func send(
        _ email: OutboundEmail, server: SMTPServerConfiguration?, addresses: [IPAddress]? = nil, echo: (@Sendable (String) -> Void)? = nil
    ) async -> Result {
        guard let server else {
            let outcome = await OutboxTransport(directory: outboxDirectory).send([email])[0]
            let (kind, detail) = Self.split(outcome)
            echo?(detail)
            return Result(transport: "outbox", outcome: kind, detail: detail, messageID: email.messageID, transcript: [detail])
        }
        let lines = LineCollector(echo: echo)
        do {
            let connection = try await SMTPConnection.connect(
                to: server, tlsContext: try SMTPConnection.makeTLSContext(for: server), heloName: server.heloName ?? heloName,
                addresses: addresses, transcript: lines.append)
            let result: SMTPTransactionResult
            do {
                result = try await connection.send(from: email.sender, to: [email.recipient], message: email.bytes)
            } catch {
                connection.close()
                throw error
            }
            await connection.quit()
            let (kind, detail) = Self.split(SMTPTransport.outcome(result))
            return Result(transport: "smtp \(server)", outcome: kind, detail: detail, messageID: email.messageID, transcript: lines.lines)
        } catch {
            let transient = (error as? SMTPError)?.isTransient ?? true
            return Result(
                transport: "smtp \(server)", outcome: transient ? .transientFailure : .permanentFailure, detail: String(describing: error),
                messageID: email.messageID, transcript: lines.lines)
        }
    }

    /// Sends `email` through a provider API's transport, as the queue would; its answer is the transcript.
    public func send(_ email: OutboundEmail, through transport: any EmailTransport, echo: (@Sendable (String) -> Void)? = nil) async -> Result {
        let outcome = await transport.send([email]).first ?? .transientFailure("no answer")
        let (kind, detail) = Self.split(outcome)
        echo?(detail)
        return Result(transport: transport.name, outcome: kind, detail: detail, messageID: email.messageID, transcript: [detail])
    }

    static func split(_ outcome: EmailSendOutcome) -> (Result.Outcome, String) {
        switch outcome {
        case .accepted(let detail): (.accepted, detail)
        case .transientFailure(let detail): (.transientFailure, detail)
        case .permanentFailure(let detail): (.permanentFailure, detail)
        case .deferred(let detail, _): (.transientFailure, detail)
        }
    }
}

/// Collects transcript lines from the connection's callbacks, echoing each as it comes.
private final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])
    private let echo: (@Sendable (String) -> Void)?

    init(echo: (@Sendable (String) -> Void)?) { self.echo = echo }

    var append: @Sendable (String) -> Void {
        { [self] line in
            storage.withLock { $0.append(line) }
            echo?(line)
        }
    }

    var lines: [String] { storage.withLock { $0 } }
}
