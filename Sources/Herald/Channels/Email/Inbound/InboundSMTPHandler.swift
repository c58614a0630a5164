import Logging
import NIOCore

/// Runs one inbound SMTP connection: frames the bytes into command lines or message data, feeds them to
/// the `InboundSMTPSession` and performs its actions. Everything happens on the channel's event loop;
/// the two questions for the engine (recipient policy, delivery) run as tasks whose answers come back
/// to the loop.
///
/// Memory stays bounded whatever the client does: a command line is held to 512 bytes (a longer one is
/// discarded as it arrives and answered 500), message data goes through `InboundDataReader`, which keeps
/// at most the size limit, and reading stops while the engine is being asked or while the client is not
/// reading our replies, so unprocessed input never piles up.
final class InboundSMTPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the server gives every connection.
    struct Environment: Sendable {
        var session: InboundSMTPSession.Configuration
        var commandTimeout: TimeAmount
        var dataTimeout: TimeAmount
        var sessionTimeout: TimeAmount
        var recipientPolicy: @Sendable (String) async -> InboundRecipientDecision
        var deliver: @Sendable (InboundMail) async -> InboundDeliveryOutcome
        var logger: Logger
    }

    /// Sent down the pipeline when the server shuts down: end the session once any hand-over is done.
    struct ShutdownEvent: Sendable {}

    private let environment: Environment
    private var session: InboundSMTPSession
    private var buffer = ByteBuffer()
    /// Discarding the rest of a line that grew past the command limit, until its LF.
    private var discardingLongLine = false
    private var inData = false
    private var dataReader = InboundDataReader(limit: 0)
    /// Waiting for the engine's answer: no command is processed and no byte read.
    private var awaitingEngine = false
    /// The client is not reading our replies: stop reading its commands until it does.
    private var writesBlocked = false
    /// A burst of pipelined commands is being worked through in turns (see ``maximumCommandsPerTurn``).
    private var continuationScheduled = false
    /// A `read` came while reading was paused; pass it on when reading resumes.
    private var readPending = false
    private var closing = false
    private var shutdownRequested = false
    private var lastWrite: EventLoopFuture<Void>?
    private var commandTimer: Scheduled<Void>?
    private var dataTimer: Scheduled<Void>?
    private var sessionTimer: Scheduled<Void>?

    init(environment: Environment, peerAddress: String) {
        self.environment = environment
        self.session = InboundSMTPSession(configuration: environment.session, peerAddress: peerAddress)
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        sessionTimer = schedule(context, after: environment.sessionTimeout) { handler, context in
            handler.environment.logger.debug("inbound SMTP session took too long", metadata: ["peer": "\(handler.session.peerAddress)"])
            handler.perform(context, handler.session.timedOut())
        }
        armCommandTimer(context)
        perform(context, session.start())
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        cancelTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var incoming = unwrapInboundIn(data)
        if buffer.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer.writeBuffer(&incoming)
        }
        process(context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if writesBlocked, context.channel.isWritable {
            writesBlocked = false
            process(context)
            resumeReading(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ShutdownEvent else { return context.fireUserInboundEventTriggered(event) }
        shutdownRequested = true
        // A message being handed to the engine gets its answer first; the shutdown follows it.
        if !awaitingEngine { perform(context, session.shuttingDown()) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        environment.logger.debug("inbound SMTP connection failed", metadata: ["peer": "\(session.peerAddress)", "error": "\(error)"])
        closing = true
        cancelTimers()
        context.close(promise: nil)
    }

    /// Holds reads back while paused: this is what keeps a pipelining or flooding client from filling memory.
    func read(context: ChannelHandlerContext) {
        if isPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Input

    private var isPaused: Bool { awaitingEngine || writesBlocked || continuationScheduled }

    /// Commands handled in one go before the event loop gets a turn for the other connections on it: a
    /// client pipelining thousands of commands must not delay everyone else's replies and timers.
    static let maximumCommandsPerTurn = 256

    /// Processes buffered input until it runs out or the session must wait.
    private func process(_ context: ChannelHandlerContext) {
        var completedLine = false
        var readData = false
        var commands = 0
        while !closing, !isPaused {
            if inData {
                guard buffer.readableBytes > 0 else { break }
                readData = true
                let chunk = buffer
                let consumed = chunk.withUnsafeReadableBytes { dataReader.consume($0) }
                buffer.moveReaderIndex(forwardBy: consumed)
                guard dataReader.finished else { break }
                inData = false
                completedLine = true
                dataTimer?.cancel()
                dataTimer = nil
                let reader = dataReader
                dataReader = InboundDataReader(limit: 0)
                perform(context, session.dataFinished(message: reader.message, size: reader.size, tooLarge: reader.tooLarge))
                continue
            }
            if commands >= Self.maximumCommandsPerTurn {
                continuationScheduled = true
                context.eventLoop.assumeIsolated().execute {
                    self.continuationScheduled = false
                    self.process(context)
                    self.resumeReading(context)
                }
                break
            }
            guard let command = nextCommand() else { break }
            completedLine = true
            commands += 1
            perform(context, session.receive(command))
            if !context.channel.isWritable { writesBlocked = true }
        }
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 4096 {
            buffer.discardReadBytes()
        }
        guard !closing else { return }
        if readData, inData { armDataTimer(context) }
        if completedLine, !inData, !awaitingEngine { armCommandTimer(context) }
        context.flush()
    }

    /// The next command line in the buffer, if a whole one is there. A line over the limit is dropped
    /// as it arrives (never buffered) and becomes `InboundSMTPCommand.lineTooLong` at its LF.
    private func nextCommand() -> InboundSMTPCommand? {
        let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        if discardingLongLine {
            guard let newline else {
                buffer.clear()
                return nil
            }
            buffer.moveReaderIndex(to: newline + 1)
            discardingLongLine = false
            return .lineTooLong
        }
        guard let newline else {
            if buffer.readableBytes > InboundSMTPCommand.maximumLineLength + 2 {
                discardingLongLine = true
                buffer.clear()
            }
            return nil
        }
        let line = buffer.readableBytesView[buffer.readerIndex..<newline]
        let command = InboundSMTPCommand.parse(line)
        buffer.moveReaderIndex(to: newline + 1)
        return command
    }

    // MARK: Actions

    private func perform(_ context: ChannelHandlerContext, _ actions: [InboundSMTPSession.Action]) {
        for action in actions {
            guard !closing else { return }
            switch action {
            case .reply(let reply):
                lastWrite = context.write(wrapOutboundOut(Self.encode(reply, allocator: context.channel.allocator)))
            case .checkRecipient(let address):
                let policy = environment.recipientPolicy
                ask(context, { await policy(address) }) { handler, context, decision in
                    handler.session.recipientChecked(decision ?? .refuse(code: 451, text: "4.3.0 Try again later"))
                }
            case .startData:
                inData = true
                dataReader = InboundDataReader(limit: environment.session.maxMessageBytes)
                commandTimer?.cancel()
                commandTimer = nil
                armDataTimer(context)
            case .deliver(let mail):
                let deliver = environment.deliver
                environment.logger.debug(
                    "inbound mail received",
                    metadata: ["peer": "\(mail.peerAddress)", "bytes": "\(mail.message.count)", "recipients": "\(mail.recipients.count)"])
                ask(context, { await deliver(mail) }) { handler, context, outcome in
                    handler.session.delivered(outcome ?? .temporaryFailure("4.3.0 Try again later"))
                }
            case .close:
                close(context)
            }
        }
    }

    /// Pauses input, runs `question` off the loop, and feeds its answer to the session back on the loop.
    private func ask<Answer: Sendable>(
        _ context: ChannelHandlerContext, _ question: @escaping @Sendable () async -> Answer,
        then answer: @escaping (InboundSMTPHandler, ChannelHandlerContext, Answer?) -> [InboundSMTPSession.Action]
    ) {
        awaitingEngine = true
        commandTimer?.cancel()
        commandTimer = nil
        context.flush()
        context.eventLoop.makeFutureWithTask(question).assumeIsolated().whenComplete { result in
            guard !self.closing else { return }
            self.awaitingEngine = false
            self.perform(context, answer(self, context, try? result.get()))
            if self.shutdownRequested {
                self.perform(context, self.session.shuttingDown())
                context.flush()
                return
            }
            self.armCommandTimer(context)
            self.process(context)
            self.resumeReading(context)
        }
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard readPending, !isPaused, !closing else { return }
        readPending = false
        context.read()
    }

    /// Closes once the replies already written have gone out (the 221 or 421 must reach the client), or
    /// after `closeGrace` when a client that reads nothing keeps them from going out.
    private func close(_ context: ChannelHandlerContext) {
        closing = true
        cancelTimers()
        context.flush()
        guard let lastWrite, context.channel.isWritable else {
            context.close(promise: nil)
            return
        }
        let forced = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeGrace) { context.close(promise: nil) }
        lastWrite.assumeIsolated().whenComplete { _ in
            forced.cancel()
            context.close(promise: nil)
        }
    }

    static let closeGrace = TimeAmount.seconds(5)

    // MARK: Timers

    /// The whole next command line must arrive within the command timeout (RFC 5321 §4.5.3.2.7), so
    /// dripping bytes does not keep a session open.
    private func armCommandTimer(_ context: ChannelHandlerContext) {
        commandTimer?.cancel()
        commandTimer = schedule(context, after: environment.commandTimeout) { handler, context in
            handler.environment.logger.debug("inbound SMTP client silent", metadata: ["peer": "\(handler.session.peerAddress)"])
            handler.perform(context, handler.session.timedOut())
        }
    }

    /// During DATA, some bytes must arrive within the data timeout (RFC 5321 §4.5.3.2.5).
    private func armDataTimer(_ context: ChannelHandlerContext) {
        dataTimer?.cancel()
        dataTimer = schedule(context, after: environment.dataTimeout) { handler, context in
            handler.environment.logger.debug("inbound SMTP data stalled", metadata: ["peer": "\(handler.session.peerAddress)"])
            handler.perform(context, handler.session.timedOut())
        }
    }

    private func schedule(
        _ context: ChannelHandlerContext, after delay: TimeAmount, _ fire: @escaping (InboundSMTPHandler, ChannelHandlerContext) -> Void
    ) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            guard !self.closing else { return }
            fire(self, context)
        }
    }

    private func cancelTimers() {
        for timer in [commandTimer, dataTimer, sessionTimer] { timer?.cancel() }
        commandTimer = nil
        dataTimer = nil
        sessionTimer = nil
    }

    /// A reply as it goes on the wire: `250-first`, …, `250 last`, each line ended by CRLF.
    static func encode(_ reply: SMTPReply, allocator: ByteBufferAllocator) -> ByteBuffer {
        let code = String(min(max(reply.code, 200), 599))
        let lines = reply.lines.isEmpty ? [""] : reply.lines
        var buffer = allocator.buffer(capacity: lines.reduce(0) { $0 + $1.utf8.count + 6 })
        for (index, line) in lines.enumerated() {
            buffer.writeString(code)
            buffer.writeString(index == lines.count - 1 ? " " : "-")
            buffer.writeString(InboundSMTPSession.clean(line, limit: 510))
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }
}
