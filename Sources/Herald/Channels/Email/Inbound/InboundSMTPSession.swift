/// The server side of one inbound SMTP session as a plain state machine: told each command, it answers
/// what to do. No I/O lives here, so ordering rules, limits and error counting are tested without a
/// socket; `InboundMailServer` performs the actions.
///
/// Every command gets exactly one reply, so pipelined clients (RFC 2920) can match replies to commands.
/// Two answers come from outside: `.checkRecipient` (the driver asks the engine, then calls
/// ``recipientChecked(_:)``) and `.deliver` (the driver hands the mail over, then calls
/// ``delivered(_:)``). Until then the driver feeds no further command.
///
/// The listener exists to receive bounces and complaints, so it offers nothing that could make it useful to
/// anyone else: no STARTTLS, no AUTH, no relaying (every recipient is the engine's decision).
public struct InboundSMTPSession: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The name in the greeting and the EHLO reply.
        public var hostname: String
        /// Largest message accepted, advertised as `SIZE`; bigger ones are read to their end, discarded and refused.
        public var maxMessageBytes: Int
        /// Most recipients per transaction; RCPTs beyond get 452 (RFC 5321 §4.5.3.1.8 asks for at least 100).
        public var maxRecipients: Int
        /// Refusals (5xx replies) after which the session ends with 421: a client that keeps erring is
        /// broken or probing, and each error costs us a reply.
        public var maxErrors: Int

        public init(hostname: String = "localhost", maxMessageBytes: Int = 10 << 20, maxRecipients: Int = 100, maxErrors: Int = 10) {
            self.hostname = hostname
            self.maxMessageBytes = maxMessageBytes
            self.maxRecipients = maxRecipients
            self.maxErrors = maxErrors
        }
    }

    public enum Action: Sendable, Hashable {
        /// Write this reply.
        case reply(SMTPReply)
        /// Ask the engine about this recipient, then call ``recipientChecked(_:)``.
        case checkRecipient(String)
        /// The 354 is written: what follows is message data, until `CRLF.CRLF`; then call ``dataFinished(message:size:tooLarge:)``.
        case startData
        /// Hand this mail to the engine, then call ``delivered(_:)``.
        case deliver(InboundMail)
        /// Close the connection once the replies before it are written.
        case close
    }

    struct Transaction: Sendable, Hashable {
        var reversePath: String
        var recipients: [String] = []
    }

    enum State: Sendable, Hashable {
        /// Before the greeting.
        case connected
        /// Greeted; no HELO/EHLO yet.
        case greeted
        /// HELO/EHLO given; no transaction.
        case ready
        case transaction(Transaction)
        case checkingRecipient(Transaction, String)
        case receivingData(Transaction)
        case delivering
        case closed
    }

    public let configuration: Configuration
    public let peerAddress: String
    private(set) var state: State = .connected
    /// The name from the last HELO/EHLO.
    public private(set) var heloName: String?
    /// Whether the client said EHLO (and so may use the extensions).
    public private(set) var extended = false
    /// Refusals so far (5xx replies to commands).
    public private(set) var errorCount = 0

    public init(configuration: Configuration = Configuration(), peerAddress: String) {
        self.configuration = configuration
        self.peerAddress = peerAddress
    }

    /// Whether the driver must wait for ``recipientChecked(_:)`` or ``delivered(_:)`` before the next command.
    public var isAwaitingDecision: Bool {
        switch state {
        case .checkingRecipient, .delivering: true
        default: false
        }
    }

    public var isReceivingData: Bool {
        if case .receivingData = state { return true }
        return false
    }

    public var isClosed: Bool { state == .closed }

    // MARK: Session

    /// The connection is open: greet.
    public mutating func start() -> [Action] {
        guard state == .connected else { return [] }
        state = .greeted
        return [reply(220, "\(hostname) ESMTP Herald bounce receiver")]
    }

    /// The client was silent too long (or the whole session took too long): 421 and close (RFC 5321 §4.5.3.2).
    public mutating func timedOut() -> [Action] {
        end(reply(421, "4.4.2 \(hostname) Timeout, closing the connection"))
    }

    /// The server is shutting down: 421 and close, which tells the client to try again later.
    public mutating func shuttingDown() -> [Action] {
        end(reply(421, "4.3.2 \(hostname) Shutting down, try again later"))
    }

    // MARK: Commands

    public mutating func receive(_ command: InboundSMTPCommand) -> [Action] {
        switch state {
        case .closed:
            return []
        case .connected, .checkingRecipient, .receivingData, .delivering:
            // The driver feeds no command before the greeting, during DATA or while a decision is pending.
            return refuse(503, "5.5.1 One command at a time")
        case .greeted, .ready, .transaction:
            break
        }
        switch command {
        case .helo(let name), .ehlo(let name):
            // A second HELO/EHLO is allowed and resets any transaction (RFC 5321 §4.1.4).
            heloName = name
            if case .ehlo = command {
                extended = true
                state = .ready
                return [
                    .reply(
                        SMTPReply(
                            code: 250,
                            lines: [
                                "\(hostname) greets \(name)", "SIZE \(configuration.maxMessageBytes)", "8BITMIME", "PIPELINING",
                                "ENHANCEDSTATUSCODES",
                            ]))
                ]
            }
            extended = false
            state = .ready
            return [reply(250, "\(hostname)")]
        case .mailFrom(let reversePath, let parameters):
            switch state {
            case .greeted: return refuse(503, "5.5.1 Send HELO or EHLO first")
            case .transaction: return refuse(503, "5.5.1 Nested MAIL command")
            default: break
            }
            for parameter in parameters {
                guard extended else { return refuse(555, "5.5.4 Parameters need EHLO") }
                switch (parameter.keyword, parameter.value?.uppercased()) {
                case ("SIZE", let value?):
                    // RFC 1870: a declared size over the limit is refused before any data is sent.
                    guard !value.isEmpty, value.count <= 20, value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                        return refuse(501, "5.5.4 Invalid SIZE value")
                    }
                    if value.count > 18 || (Int(value) ?? Int.max) > configuration.maxMessageBytes {
                        return refuse(552, "5.3.4 Message size exceeds the fixed limit of \(configuration.maxMessageBytes) bytes")
                    }
                case ("BODY", "7BIT"?), ("BODY", "8BITMIME"?):
                    continue
                default:
                    return refuse(555, "5.5.4 Unsupported parameter \(parameter.keyword)")
                }
            }
            state = .transaction(Transaction(reversePath: reversePath))
            return [reply(250, "2.1.0 Sender OK")]
        case .rcptTo(let forwardPath, let parameters):
            guard case .transaction(let transaction) = state else { return refuse(503, "5.5.1 Need MAIL before RCPT") }
            guard parameters.isEmpty else {
                return refuse(555, "5.5.4 Unsupported parameter \(parameters.first.map(\.keyword) ?? "")")
            }
            if transaction.recipients.contains(where: { $0.lowercased() == forwardPath.lowercased() }) {
                return [reply(250, "2.1.5 Recipient OK")]
            }
            guard transaction.recipients.count < configuration.maxRecipients else {
                return [reply(452, "4.5.3 Too many recipients")]
            }
            state = .checkingRecipient(transaction, forwardPath)
            return [.checkRecipient(forwardPath)]
        case .data:
            guard case .transaction(let transaction) = state else { return refuse(503, "5.5.1 Need MAIL before DATA") }
            guard !transaction.recipients.isEmpty else { return refuse(554, "5.5.1 No valid recipients") }
            state = .receivingData(transaction)
            return [reply(354, "End data with <CR><LF>.<CR><LF>"), .startData]
        case .rset:
            if state != .greeted { state = .ready }
            return [reply(250, "2.0.0 OK")]
        case .noop:
            return [reply(250, "2.0.0 OK")]
        case .quit:
            return end(reply(221, "2.0.0 \(hostname) Bye"))
        case .vrfy:
            return [reply(252, "2.5.0 Cannot VRFY user")]
        case .help:
            return [reply(214, "2.0.0 This server takes bounces and complaints for Herald only")]
        case .expn, .startTLS, .bdat, .auth:
            return refuse(502, "5.5.1 Command not implemented")
        case .unknown:
            return refuse(500, "5.5.2 Command unrecognized")
        case .syntaxError(let code, let text):
            return refuse(code, text)
        }
    }

    /// The engine's answer to the last `.checkRecipient`.
    public mutating func recipientChecked(_ decision: InboundRecipientDecision) -> [Action] {
        guard case .checkingRecipient(var transaction, let address) = state else { return [] }
        switch decision {
        case .accept:
            transaction.recipients.append(address)
            state = .transaction(transaction)
            return [reply(250, "2.1.5 Recipient OK")]
        case .refuse(let code, let text):
            state = .transaction(transaction)
            let code = (400...599).contains(code) ? code : 550
            return refuse(code, Self.withStatus(text, code: code, default: ".1.0"))
        }
    }

    /// The data ended with `CRLF.CRLF`. `message` is the dot-unstuffed data (empty once it grew past the
    /// limit), `size` how many bytes the data had; `tooLarge` says the driver stopped keeping it.
    public mutating func dataFinished(message: [UInt8], size: Int, tooLarge: Bool) -> [Action] {
        guard case .receivingData(let transaction) = state else { return [] }
        let limit = configuration.maxMessageBytes
        if tooLarge || size > limit || message.count > limit {
            state = .ready
            return [reply(552, "5.3.4 Message size exceeds the fixed limit of \(limit) bytes")]
        }
        state = .delivering
        let mail = InboundMail(
            reversePath: transaction.reversePath, recipients: transaction.recipients, heloName: heloName ?? "",
            peerAddress: peerAddress, message: message)
        return [.deliver(mail)]
    }

    /// The engine's answer to `.deliver`, which ends the transaction.
    public mutating func delivered(_ outcome: InboundDeliveryOutcome) -> [Action] {
        guard state == .delivering else { return [] }
        state = .ready
        switch outcome {
        case .accepted: return [reply(250, "2.0.0 OK: message accepted")]
        case .temporaryFailure(let text): return [reply(451, Self.withStatus(text, code: 451, default: ".3.0"))]
        case .rejected(let text): return refuse(554, Self.withStatus(text, code: 554, default: ".6.0"))
        }
    }

    // MARK: Replies

    private var hostname: String { Self.clean(configuration.hostname, limit: 255) }

    private func reply(_ code: Int, _ text: String) -> Action {
        .reply(SMTPReply(code: code, lines: [text]))
    }

    /// A refusal, counted: the one that reaches the limit becomes 421 and the session ends.
    private mutating func refuse(_ code: Int, _ text: String) -> [Action] {
        guard code >= 500 else { return [reply(code, text)] }
        errorCount += 1
        if errorCount >= configuration.maxErrors {
            return end(reply(421, "4.7.0 \(hostname) Too many errors, closing the connection"))
        }
        return [reply(code, text)]
    }

    private mutating func end(_ last: Action) -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        return [last, .close]
    }

    /// `text` as one reply line that starts with an enhanced status code of the reply's class (RFC 2034
    /// requires one on every reply once ENHANCEDSTATUSCODES is offered): the engine's text is cleaned,
    /// bounded, and given `<class><default>` when it has no code of its own.
    static func withStatus(_ text: String, code: Int, default detail: String) -> String {
        let cleaned = clean(text, limit: 400)
        let first = cleaned.split(separator: " ", maxSplits: 1).first ?? ""
        let parts = first.split(separator: ".", omittingEmptySubsequences: false)
        let classDigit = String(code / 100)
        if parts.count == 3, parts[0] == classDigit, parts.dropFirst().allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) {
            return cleaned
        }
        return classDigit + detail + (cleaned.isEmpty ? "" : " " + cleaned)
    }

    /// Printable ASCII only (a CR or LF from elsewhere would end the reply early and inject another), at most `limit` long.
    static func clean(_ text: String, limit: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.lazy.filter { (0x20...0x7E).contains($0.value) }.prefix(limit)))
    }
}
