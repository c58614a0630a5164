import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One open SMTP session: connects, greets, upgrades to TLS, authenticates, then runs mail transactions
/// one after another on the same socket until it is closed. The protocol decisions are the
/// `SMTPSessionStateMachine`'s; this type only performs them.
///
/// A connection serves one caller at a time (the pool guarantees it), so its transactions never interleave.
public final class SMTPConnection: Sendable {
    public let server: SMTPServerConfiguration
    let channel: any Channel
    private let machine: Mutex<SMTPSessionStateMachine>
    private let transcript: (@Sendable (String) -> Void)?
    /// When the connection last finished a transaction, for the pool's idle timeout.
    let lastUsed = Mutex<ContinuousClock.Instant>(.now)
    private let tlsContext: NIOSSLContext?
    private let failure: SMTPClientHandler.FailureRecord

    private init(
        server: SMTPServerConfiguration, channel: any Channel, machine: SMTPSessionStateMachine, tlsContext: NIOSSLContext?,
        failure: SMTPClientHandler.FailureRecord, transcript: (@Sendable (String) -> Void)?
    ) {
        self.failure = failure
        self.server = server
        self.channel = channel
        self.machine = Mutex(machine)
        self.tlsContext = tlsContext
        self.transcript = transcript
    }

    /// Opens a session: TCP (or TLS for `security: tls`), greeting, EHLO, STARTTLS, AUTH.
    ///
    /// - Parameters:
    ///   - addresses: the addresses ``DestinationPolicy/vet(host:)`` approved for `server.host`; the connection goes to
    ///     the first that answers instead of resolving the name again (TLS still verifies the name). Nil connects by name.
    ///   - transcript: told every line sent and received (credentials masked), for `herald email test`.
    public static func connect(
        to server: SMTPServerConfiguration, tlsContext: NIOSSLContext?, heloName: String, addresses: [IPAddress]? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, transcript: (@Sendable (String) -> Void)? = nil
    ) async throws -> SMTPConnection {
        // The name goes on the EHLO line: a line break there would let it send commands of its own.
        if let problem = EmailHeader.problem(in: heloName) { throw SMTPError.unsupported("the HELO name \(problem)") }
        let timeout = Seconds(clamping: server.timeoutSeconds).timeAmount
        let implicitTLS = server.security == .tls
        let hostname = Self.sniHostname(server.host)
        transcript?("connecting to \(server.host):\(server.port) (\(server.security.rawValue))")
        let failure = SMTPClientHandler.FailureRecord()
        let channel: any Channel
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS, let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPClientHandler(record: failure))
                }
            }
        do {
            if let addresses {
                channel = try await Self.connect(bootstrap, toFirstOf: addresses, port: server.port)
            } else {
                channel = try await bootstrap.connect(host: server.host, port: server.port).get()
            }
        } catch {
            throw SMTPError.connectionFailed("\(server.host):\(server.port): \(error)")
        }
        let options = SMTPSessionStateMachine.Options(
            heloName: heloName, security: server.security, username: server.username, password: server.password,
            plaintextAuthAllowed: server.isLoopback)
        let connection = SMTPConnection(
            server: server, channel: channel, machine: SMTPSessionStateMachine(options: options, implicitTLS: implicitTLS),
            tlsContext: tlsContext, failure: failure, transcript: transcript)
        do {
            let start = connection.machine.withLock { $0.start() }
            guard case .ready(let capabilities) = try await connection.perform(start, step: "the greeting") else {
                throw SMTPError.connectionFailed("the session did not open")
            }
            transcript?("ready: " + (capabilities.keywords.isEmpty ? "no extensions" : capabilities.keywords.joined(separator: ", ")))
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Connects to the first of `addresses` that accepts, in order; throws the last failure.
    private static func connect(_ bootstrap: ClientBootstrap, toFirstOf addresses: [IPAddress], port: Int) async throws -> any Channel {
        var lastError: any Error = SMTPError.connectionFailed("no address to connect to")
        for address in addresses {
            do {
                return try await bootstrap.connect(to: SocketAddress(ipAddress: address.description, port: port)).get()
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Whether the session can take another transaction.
    public var isUsable: Bool { channel.isActive && machine.withLock { $0.isReady } }

    public var capabilities: SMTPCapabilities { machine.withLock { $0.capabilities } }

    /// Sends one message to its recipients and answers each recipient's outcome. Throws only when the
    /// connection itself failed; then nothing about the message is known for sure and it is worth retrying.
    public func send(from sender: String, to recipients: [String], message: [UInt8]) async throws -> SMTPTransactionResult {
        let begin = machine.withLock { $0.beginTransaction(from: sender, to: recipients, size: message.count) }
        let action = try await perform(begin, step: "the mail transaction", message: message)
        lastUsed.withLock { $0 = .now }
        guard case .finished(let result, let reusable) = action else { throw SMTPError.connectionFailed("the transaction did not finish") }
        if !reusable { close() }
        return result
    }

    /// Says QUIT and closes. Never throws: a connection that will not quit politely is closed anyway.
    public func quit() async {
        let action = machine.withLock { $0.quit() }
        _ = try? await perform(action, step: "QUIT")
        close()
    }

    func close() {
        machine.withLock { $0.connectionLost() }
        channel.close(promise: nil)
    }

    /// Performs actions until one that ends this step: ready, finished, close or fail.
    private func perform(_ first: SMTPSessionStateMachine.Action, step: String, message: [UInt8]? = nil) async throws
        -> SMTPSessionStateMachine.Action
    {
        var action = first
        while true {
            switch action {
            case .ready, .finished, .close:
                return action
            case .fail(let error):
                transcript?("failed: \(error)")
                close()
                throw error
            case .wait:
                throw SMTPError.malformedReply("the session waited for a reply that was never asked for")
            case .receive:
                action = try await exchange(nil, expecting: 1, step: step)
            case .send(let commands):
                var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
                for command in commands {
                    transcript?("C: " + command.redactedLine)
                    command.write(into: &bytes)
                }
                action = try await exchange(bytes, expecting: commands.count, step: step, tlsFollows: commands.last == .startTLS)
            case .sendMessage:
                guard let message else { throw SMTPError.malformedReply("DATA was accepted but there is no message to send") }
                transcript?("C: <message, \(message.count) bytes>")
                action = try await exchange(Self.dataBuffer(message, allocator: channel.allocator), expecting: 1, step: "the end of data")
            case .abortData:
                transcript?("C: .")
                action = try await exchange(ByteBuffer(string: ".\r\n"), expecting: 1, step: "the end of data")
            case .startTLS:
                try await startTLS()
                action = machine.withLock { $0.tlsEstablished() }
            }
        }
    }

    /// Writes `bytes` (if any) and feeds the replies to the state machine; returns its last decision.
    private func exchange(_ bytes: ByteBuffer?, expecting count: Int, step: String, tlsFollows: Bool = false) async throws
        -> SMTPSessionStateMachine.Action
    {
        let promise = channel.eventLoop.makePromise(of: [SMTPReply].self)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: Seconds(clamping: server.timeoutSeconds).timeAmount) {
            // Completing a promise twice is a no-op, so whichever of reply, timeout or write failure comes first wins.
            promise.fail(SMTPError.timeout(step: step))
            channel.close(promise: nil)
        }
        let request = SMTPClientHandler.Request(bytes: bytes, expectedReplies: count, tlsFollows: tlsFollows, promise: promise)
        channel.writeAndFlush(request).whenFailure { error in
            promise.fail(error as? SMTPError ?? SMTPError.connectionFailed("cannot write to the server: \(error)"))
        }
        let replies: [SMTPReply]
        do {
            replies = try await promise.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            close()
            // The handler's record names the first cause; a later "closed channel" is only its consequence.
            let cause = failure.error.withLock { $0 } ?? error as? SMTPError ?? SMTPError.connectionFailed(String(describing: error))
            transcript?("failed: \(cause)")
            throw cause
        }
        var action = SMTPSessionStateMachine.Action.wait
        for reply in replies {
            if let transcript {
                for (index, line) in reply.lines.enumerated() {
                    transcript("S: \(reply.code)\(index == reply.lines.count - 1 ? " " : "-")\(line)")
                }
            }
            action = machine.withLock { $0.received(reply) }
            if case .fail = action { break }
        }
        return action
    }

    private func startTLS() async throws {
        guard let tlsContext else { throw SMTPError.unsupported("STARTTLS was agreed but no TLS configuration exists") }
        transcript?("starting TLS")
        let hostname = Self.sniHostname(server.host)
        let channel = self.channel
        try await channel.eventLoop.submit {
            let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: hostname)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
        }.get()
    }

    /// The message as DATA content: line ends made CRLF, lines starting with `.` doubled (RFC 5321
    /// §4.5.2), and the terminating `CRLF.CRLF`.
    static func dataBuffer(_ message: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + 64)
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        // Copies runs of bytes whole, stopping only where a byte must be added: a CR before a bare LF,
        // a second dot before a dot that starts a line.
        var runStart = 0
        var atLineStart = true
        for index in message.indices {
            let byte = message[index]
            if byte == lf, index == 0 || message[index - 1] != cr {
                buffer.writeBytes(message[runStart..<index])
                buffer.writeInteger(cr)
                runStart = index
            } else if atLineStart, byte == dot {
                buffer.writeBytes(message[runStart..<index])
                buffer.writeInteger(dot)
                runStart = index
            }
            atLineStart = byte == lf
        }
        buffer.writeBytes(message[runStart...])
        if !atLineStart { buffer.writeStaticString("\r\n") }
        buffer.writeStaticString(".\r\n")
        return buffer
    }

    /// SNI takes host names only; for an IP address the certificate is still verified, without SNI.
    static func sniHostname(_ host: String) -> String? {
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || host.contains(":") ? nil : host
    }

    /// The TLS settings for a server: system roots plus any configured certificates, verification on
    /// unless explicitly turned off.
    public static func makeTLSContext(for server: SMTPServerConfiguration) throws -> NIOSSLContext? {
        guard server.security != .none else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let pem = server.trustedCertificatesPEM {
            let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
            configuration.additionalTrustRoots = [.certificates(certificates)]
        }
        if !server.verifyCertificates { configuration.certificateVerification = .none }
        return try NIOSSLContext(configuration: configuration)
    }
}
