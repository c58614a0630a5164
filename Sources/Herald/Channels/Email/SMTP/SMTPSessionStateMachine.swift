/// The client side of one SMTP session as a plain state machine: told what the server replied, it
/// answers what to do next. No I/O lives here, so every path (EHLO falling back to HELO, STARTTLS then
/// EHLO again, AUTH PLAIN or LOGIN, pipelined transactions, RSET after a failure, QUIT) is tested
/// without a socket. `SMTPConnection` performs the actions.
public struct SMTPSessionStateMachine: Sendable {
    public struct Options: Sendable, Hashable {
        public var heloName: String
        public var security: SMTPServerConfiguration.Security
        public var username: String?
        public var password: String?
        /// Credentials may go without TLS: the server is on this machine (loopback), or TLS is off by choice.
        public var plaintextAuthAllowed: Bool

        public init(
            heloName: String, security: SMTPServerConfiguration.Security, username: String? = nil, password: String? = nil,
            plaintextAuthAllowed: Bool = false
        ) {
            self.heloName = heloName
            self.security = security
            self.username = username
            self.password = password
            self.plaintextAuthAllowed = plaintextAuthAllowed || security == .none
        }
    }

    public enum Action: Sendable, Hashable {
        /// Write these commands (pipelined when more than one); each gets one reply.
        case send([SMTPCommand])
        /// Read a reply without sending anything (the greeting).
        case receive
        /// Wrap the connection in TLS, then call `tlsEstablished()`.
        case startTLS
        /// Write the message data, dot-stuffed and ended with `CRLF.CRLF`; one reply follows.
        case sendMessage
        /// DATA was accepted though no recipient was: end the empty data with `.` alone; one reply follows.
        case abortData
        /// More replies to pipelined commands are due.
        case wait
        /// The session is open: transactions may start.
        case ready(SMTPCapabilities)
        /// The transaction is over. With `reusable`, the session is ready for the next one.
        case finished(SMTPTransactionResult, reusable: Bool)
        /// QUIT was answered (or the session was never open): close the socket.
        case close
        /// The session cannot go on: close the socket.
        case fail(SMTPError)
    }

    enum LoginStep: Sendable, Hashable { case command, username, password }

    struct Transaction: Sendable, Hashable {
        var recipients: [String]
        var pipelined: Bool
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply] = []
        var dataReply: SMTPReply?
        var sentMessage = false

        var acceptedCount: Int { recipientReplies.filter(\.isPositive).count }
    }

    enum State: Sendable, Hashable {
        case idle
        case greeting
        case ehlo(afterTLS: Bool)
        case helo
        case startTLS
        case tlsHandshake
        case authPlain
        case authLogin(LoginStep)
        case ready
        case transaction(Transaction)
        case resetting(SMTPTransactionResult)
        case quitting
        case closed
        case failed
    }

    public let options: Options
    private(set) var state: State = .idle
    public private(set) var capabilities = SMTPCapabilities()
    public private(set) var tlsActive: Bool

    /// - Parameter implicitTLS: the socket is TLS from the start (SMTPS).
    public init(options: Options, implicitTLS: Bool = false) {
        self.options = options
        self.tlsActive = implicitTLS
    }

    public var isReady: Bool { state == .ready }

    // MARK: Session

    /// The connection is open: wait for the greeting.
    public mutating func start() -> Action {
        state = .greeting
        return .receive
    }

    /// TLS is up after STARTTLS: everything learned before it is forgotten (RFC 3207 §4.2), so EHLO again.
    public mutating func tlsEstablished() -> Action {
        guard state == .tlsHandshake else { return fail(.unsupported("TLS came up outside a STARTTLS exchange")) }
        tlsActive = true
        capabilities = SMTPCapabilities()
        state = .ehlo(afterTLS: true)
        return .send([.ehlo(options.heloName)])
    }

    /// Ends the session politely when it is idle; otherwise just closes.
    public mutating func quit() -> Action {
        guard state == .ready else {
            state = .closed
            return .close
        }
        state = .quitting
        return .send([.quit])
    }

    /// The connection broke: whatever was in flight is lost.
    public mutating func connectionLost() {
        state = .failed
    }

    // MARK: Transactions

    /// Starts a mail transaction. With PIPELINING, MAIL, every RCPT and DATA go in one write (RFC 2920).
    public mutating func beginTransaction(from sender: String, to recipients: [String], size: Int) -> Action {
        guard state == .ready, !recipients.isEmpty else {
            return fail(.unsupported("a transaction can only start on a ready session, with at least one recipient"))
        }
        if let limit = capabilities.maximumSize, size > limit {
            let reply = SMTPReply(code: 552, lines: ["5.3.4 The message is \(size) bytes; the server accepts at most \(limit)"])
            return .finished(SMTPTransactionResult(recipients: recipients.map { .init(address: $0, reply: reply) }), reusable: true)
        }
        let pipelined = capabilities.pipelining
        state = .transaction(Transaction(recipients: recipients, pipelined: pipelined))
        let mail = SMTPCommand.mailFrom(sender, size: capabilities.size ? size : nil)
        if pipelined { return .send([mail] + recipients.map(SMTPCommand.rcptTo) + [.data]) }
        return .send([mail])
    }

    // MARK: Replies

    public mutating func received(_ reply: SMTPReply) -> Action {
        switch state {
        case .idle, .closed, .failed, .tlsHandshake:
            return fail(.malformedReply("a reply arrived when none was expected: \(reply)"))
        case .greeting:
            guard reply.code == 220 else { return fail(.rejected(step: "the connection", reply: reply)) }
            state = .ehlo(afterTLS: tlsActive)
            return .send([.ehlo(options.heloName)])
        case .ehlo(let afterTLS):
            guard reply.kind == .positiveCompletion else {
                // An old server that does not know EHLO: fall back to HELO, without extensions (RFC 5321 §3.2).
                if !afterTLS, reply.kind == .permanentNegative {
                    state = .helo
                    return .send([.helo(options.heloName)])
                }
                return fail(.rejected(step: "EHLO", reply: reply))
            }
            capabilities = SMTPCapabilities(ehlo: reply)
            if !tlsActive, options.security == .starttls || (options.security == .opportunistic && capabilities.startTLS) {
                guard capabilities.startTLS else {
                    return fail(.unsupported("the server does not offer STARTTLS, which the configuration requires (security: starttls)"))
                }
                state = .startTLS
                return .send([.startTLS])
            }
            return authenticate()
        case .helo:
            guard reply.kind == .positiveCompletion else { return fail(.rejected(step: "HELO", reply: reply)) }
            if options.security == .starttls, !tlsActive {
                return fail(.unsupported("the server does not speak EHLO, so it cannot offer STARTTLS, which the configuration requires"))
            }
            capabilities = SMTPCapabilities()
            return authenticate()
        case .startTLS:
            guard reply.code == 220 else { return fail(.rejected(step: "STARTTLS", reply: reply)) }
            state = .tlsHandshake
            return .startTLS
        case .authPlain:
            guard reply.code == 235 else { return fail(.rejected(step: "authentication (AUTH PLAIN)", reply: reply)) }
            return becomeReady()
        case .authLogin(let step):
            switch (step, reply.code) {
            case (.command, 334):
                state = .authLogin(.username)
                return .send([.authResponse(options.username ?? "")])
            case (.username, 334):
                state = .authLogin(.password)
                return .send([.authResponse(options.password ?? "")])
            case (.password, 235):
                return becomeReady()
            default:
                return fail(.rejected(step: "authentication (AUTH LOGIN)", reply: reply))
            }
        case .ready:
            // Only 421 (closing) may arrive unasked; anything else is a broken server.
            return fail(reply.code == 421 ? .rejected(step: "the connection", reply: reply) : .malformedReply("unexpected reply \(reply)"))
        case .transaction(var transaction):
            return transactionReply(reply, &transaction)
        case .resetting(let result):
            guard reply.kind == .positiveCompletion else {
                state = .failed
                return .finished(result, reusable: false)
            }
            state = .ready
            return .finished(result, reusable: true)
        case .quitting:
            state = .closed
            return .close
        }
    }

    private mutating func transactionReply(_ reply: SMTPReply, _ transaction: inout Transaction) -> Action {
        if transaction.sentMessage {
            // The reply to the end of data (or to an aborted DATA) decides every accepted recipient.
            return finish(transaction, endOfData: reply)
        }
        if transaction.mailReply == nil {
            transaction.mailReply = reply
            if !transaction.pipelined {
                guard reply.kind == .positiveCompletion else { return finish(transaction, endOfData: nil) }
                state = .transaction(transaction)
                return .send([.rcptTo(transaction.recipients[0])])
            }
            state = .transaction(transaction)
            return .wait
        }
        if transaction.recipientReplies.count < transaction.recipients.count {
            transaction.recipientReplies.append(reply)
            let done = transaction.recipientReplies.count == transaction.recipients.count
            state = .transaction(transaction)
            if transaction.pipelined { return .wait }
            if !done { return .send([.rcptTo(transaction.recipients[transaction.recipientReplies.count])]) }
            guard transaction.acceptedCount > 0 else { return finish(transaction, endOfData: nil) }
            return .send([.data])
        }
        transaction.dataReply = reply
        guard reply.code == 354 else { return finish(transaction, endOfData: nil) }
        transaction.sentMessage = true
        state = .transaction(transaction)
        let accepted = transaction.mailReply?.kind == .positiveCompletion && transaction.acceptedCount > 0
        return accepted ? .sendMessage : .abortData
    }

    /// Works out each recipient's deciding reply; resets the session first unless everything went through.
    private mutating func finish(_ transaction: Transaction, endOfData: SMTPReply?) -> Action {
        let mail = transaction.mailReply!
        var recipients: [SMTPTransactionResult.Recipient] = []
        for (index, address) in transaction.recipients.enumerated() {
            let deciding: SMTPReply
            if mail.kind != .positiveCompletion {
                deciding = mail
            } else if index < transaction.recipientReplies.count, !transaction.recipientReplies[index].isPositive {
                deciding = transaction.recipientReplies[index]
            } else if let data = transaction.dataReply, data.code != 354 {
                deciding = data
            } else if let endOfData, transaction.acceptedCount > 0, transaction.mailReply?.kind == .positiveCompletion {
                deciding = endOfData
            } else {
                deciding = SMTPReply(code: 451, lines: ["4.3.0 The transaction ended before this recipient was answered"])
            }
            recipients.append(.init(address: address, reply: deciding))
        }
        let result = SMTPTransactionResult(recipients: recipients)
        if result.allAccepted {
            state = .ready
            return .finished(result, reusable: true)
        }
        // RSET so a refused MAIL, RCPT or DATA leaves no half-open transaction on a connection we reuse.
        state = .resetting(result)
        return .send([.rset])
    }

    private mutating func authenticate() -> Action {
        guard let username = options.username, let password = options.password else { return becomeReady() }
        if !tlsActive, !options.plaintextAuthAllowed {
            return fail(.unsupported("refusing to send SMTP credentials over an unencrypted connection; the server did not offer STARTTLS"))
        }
        if capabilities.authMechanisms.contains("PLAIN") {
            state = .authPlain
            return .send([.authPlain(username: username, password: password)])
        }
        if capabilities.authMechanisms.contains("LOGIN") {
            state = .authLogin(.command)
            return .send([.authLogin])
        }
        let offered = capabilities.authMechanisms.sorted().joined(separator: ", ")
        return fail(
            .unsupported(
                offered.isEmpty
                    ? "credentials are configured but the server does not offer AUTH"
                    : "the server offers AUTH \(offered); Herald speaks PLAIN and LOGIN"))
    }

    private mutating func becomeReady() -> Action {
        state = .ready
        return .ready(capabilities)
    }

    private mutating func fail(_ error: SMTPError) -> Action {
        state = .failed
        return .fail(error)
    }
}
