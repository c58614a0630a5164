import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Herald's inbound SMTP listener: receives the bounces and complaint reports that come back to the VERP
/// return paths, and hands each message to `deliver`. It never relays or sends anything: a recipient is
/// accepted only when `recipientPolicy` says so, and everything else is refused with the policy's reply.
///
/// It is built to survive the open internet: every connection is limited in line length, message size,
/// recipients, errors, idle time and total time, and there is a cap on connections at once. The protocol
/// rules are `InboundSMTPSession`'s; this type owns the socket.
///
/// ```swift
/// let server = InboundMailServer(
///     configuration: .init(host: "0.0.0.0", port: 25),
///     recipientPolicy: { address in bounceAddresses.messageRow(in: address) == nil ? .refuse(code: 550, text: "5.1.1 No such user") : .accept },
///     deliver: { mail in await engine.receiveBounce(mail) })
/// // run() as a service of the ServiceGroup; boundPort() tells the port once listening.
/// ```
public final class InboundMailServer: Service, Sendable {
    public struct Configuration: Sendable, Hashable {
        public var host: String
        /// 0 picks any free port; ``InboundMailServer/boundPort()`` tells which.
        public var port: Int
        /// The name in the greeting and the EHLO reply.
        public var hostname: String
        /// Largest message accepted (advertised as SIZE); bigger ones are read to their end, discarded and refused with 552.
        public var maxMessageBytes: Int
        /// Longest wait for a whole command line.
        public var commandTimeout: Seconds
        /// Longest wait for more message data during DATA.
        public var dataTimeout: Seconds
        /// Longest any connection may last, however busy it is.
        public var sessionTimeout: Seconds
        /// Connections at once; one more gets 421 and is closed.
        public var maxConnections: Int
        /// Recipients per message; more get 452.
        public var maxRecipients: Int
        /// Refused commands after which a session is ended with 421.
        public var maxErrors: Int

        public init(
            host: String, port: Int, hostname: String = "localhost", maxMessageBytes: Int = 10 << 20,
            commandTimeout: Seconds = Seconds(clamping: 300), dataTimeout: Seconds = Seconds(clamping: 180),
            sessionTimeout: Seconds = Seconds(clamping: 600), maxConnections: Int = 100, maxRecipients: Int = 100, maxErrors: Int = 10
        ) {
            self.host = host
            self.port = port
            self.hostname = hostname
            self.maxMessageBytes = maxMessageBytes
            self.commandTimeout = commandTimeout
            self.dataTimeout = dataTimeout
            self.sessionTimeout = sessionTimeout
            self.maxConnections = maxConnections
            self.maxRecipients = maxRecipients
            self.maxErrors = maxErrors
        }
    }

    public let configuration: Configuration
    private let recipientPolicy: @Sendable (String) async -> InboundRecipientDecision
    private let deliver: @Sendable (InboundMail) async -> InboundDeliveryOutcome
    private let group: any EventLoopGroup
    private let logger: Logger
    private let connections: ConnectionRegistry
    private let listening = ListeningState()

    public init(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "herald.inbound-smtp"),
        recipientPolicy: @escaping @Sendable (String) async -> InboundRecipientDecision,
        deliver: @escaping @Sendable (InboundMail) async -> InboundDeliveryOutcome
    ) {
        self.configuration = configuration
        self.recipientPolicy = recipientPolicy
        self.deliver = deliver
        self.group = group
        self.logger = logger
        self.connections = ConnectionRegistry(limit: configuration.maxConnections)
    }

    /// The port the server listens on, once it does (waits until then). Throws if binding failed or the
    /// server has stopped. Call it after `run()` has started.
    public func boundPort() async throws -> Int {
        try await listening.port()
    }

    /// Connections open right now.
    public var openConnections: Int { connections.count }

    /// Listens until graceful shutdown or cancellation; then stops accepting, ends every session with 421
    /// (a message being handed to `deliver` gets its answer first) and returns once they are closed.
    public func run() async throws {
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap().bind(host: configuration.host, port: configuration.port).get()
        } catch {
            listening.fail(error)
            throw error
        }
        let port = serverChannel.localAddress?.port ?? configuration.port
        listening.succeed(port)
        logger.info("inbound SMTP listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await serverChannel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        let open = connections.stopAccepting()
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(InboundSMTPHandler.ShutdownEvent()) }
        for channel in open { try? await channel.closeFuture.get() }
        listening.fail(ChannelError.ioOnClosedChannel)
        logger.info("inbound SMTP stopped")
    }

    private func bootstrap() -> ServerBootstrap {
        let environment = InboundSMTPHandler.Environment(
            session: InboundSMTPSession.Configuration(
                hostname: configuration.hostname, maxMessageBytes: configuration.maxMessageBytes,
                maxRecipients: configuration.maxRecipients, maxErrors: configuration.maxErrors),
            commandTimeout: configuration.commandTimeout.timeAmount, dataTimeout: configuration.dataTimeout.timeAmount,
            sessionTimeout: configuration.sessionTimeout.timeAmount, recipientPolicy: recipientPolicy, deliver: deliver, logger: logger)
        let connections = self.connections
        let hostname = InboundSMTPSession.clean(configuration.hostname, limit: 255)
        let logger = self.logger
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Reading is paused while the engine is asked; a modest watermark pauses it too when the client does not read replies.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = channel.remoteAddress?.ipAddress ?? "unknown"
                    guard connections.admit(channel) else {
                        logger.notice("inbound SMTP connection refused: too many open", metadata: ["peer": "\(peer)"])
                        try channel.pipeline.syncOperations.addHandler(RefusingHandler(hostname: hostname))
                        return
                    }
                    channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                    try channel.pipeline.syncOperations.addHandler(InboundSMTPHandler(environment: environment, peerAddress: peer))
                }
            }
    }
}
