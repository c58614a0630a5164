import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The bench's own SMTP sink on loopback: accepts every message (PIPELINING, no storage), as fast as it can
/// or after a set delay per message like a real relay, and notes when each one arrived, keyed by its
/// `X-Herald-Event` header, so a workload can measure trigger → received.
final class BenchSMTPSink: Sendable {
    struct Arrival: Sendable {
        var eventID: String?
        /// When its `250` to the end of data was sent.
        var at: ContinuousClock.Instant
        /// When its MAIL FROM arrived: the transaction was on the wire from then.
        var startedAt: ContinuousClock.Instant
        /// The session it came on, numbered from 1 in order of connection.
        var connection: Int
    }

    private let channel: any Channel
    private let state: SinkState
    let port: Int

    final class SinkState: Sendable {
        let arrivals = Mutex<[Arrival]>([])
        let connections = Atomic<Int>(0)
    }

    private init(channel: any Channel, state: SinkState, port: Int) {
        self.channel = channel
        self.state = state
        self.port = port
    }

    /// - Parameter delay: how long the sink takes over each message before it answers `250`, as a relay that
    ///   scans or forwards would; zero answers at once.
    static func start(delay: TimeAmount = .nanoseconds(0)) async throws -> BenchSMTPSink {
        let state = SinkState()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                let number = state.connections.add(1, ordering: .relaxed).newValue
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(SessionHandler(state: state, connection: number, delay: delay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return BenchSMTPSink(channel: channel, state: state, port: channel.localAddress?.port ?? 0)
    }

    var received: Int { state.arrivals.withLock { $0.count } }
    var connections: Int { state.connections.load(ordering: .relaxed) }
    var arrivals: [Arrival] { state.arrivals.withLock { $0 } }

    /// Messages accepted so far for one event (by their `X-Herald-Event` header).
    func arrivals(ofEvent eventID: String) -> Int {
        state.arrivals.withLock { arrivals in arrivals.count(where: { $0.eventID == eventID }) }
    }

    func reset() {
        state.arrivals.withLock { $0.removeAll(keepingCapacity: true) }
    }

    func stop() async {
        try? await channel.close()
    }

    /// One SMTP session: replies to each command line, and in DATA collects lines until the lone dot.
    final class SessionHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let state: SinkState
        let connection: Int
        let delay: TimeAmount
        private var buffer = ByteBuffer()
        private var inData = false
        private var inHeaders = false
        private var eventID: String?
        private var startedAt = ContinuousClock.now
        /// A message is being "processed" (the delay): later lines wait in the buffer so replies stay in order.
        private var busy = false
        /// Cleared when the client goes away, so a delayed reply is not written to a closed session.
        private var isOpen = true

        init(state: SinkState, connection: Int, delay: TimeAmount) {
            self.state = state
            self.connection = connection
            self.delay = delay
        }

        func channelActive(context: ChannelHandlerContext) {
            reply(context, "220 herald-bench-sink ESMTP\r\n")
            context.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            drain(context)
        }

        func channelInactive(context: ChannelHandlerContext) {
            isOpen = false
            context.fireChannelInactive()
        }

        /// Handles the buffered lines until the buffer is empty or a message's delay starts.
        private func drain(_ context: ChannelHandlerContext) {
            var wrote = false
            while !busy, let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex + 1
                guard var line = buffer.readSlice(length: length) else { break }
                line.moveWriterIndex(to: line.writerIndex - 1)
                if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
                wrote = handle(context, line) || wrote
            }
            buffer.discardReadBytes()
            if wrote { context.flush() }
        }

        /// Handles one line; true when it wrote a reply.
        private func handle(_ context: ChannelHandlerContext, _ line: ByteBuffer) -> Bool {
            if inData {
                if line.readableBytes == 1, line.readableBytesView.first == UInt8(ascii: ".") {
                    inData = false
                    guard delay.nanoseconds > 0 else {
                        accept(context)
                        return true
                    }
                    busy = true
                    context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                        guard self.isOpen else { return }
                        self.busy = false
                        self.accept(context)
                        context.flush()
                        self.drain(context)
                    }
                    return false
                }
                if inHeaders {
                    if line.readableBytes == 0 {
                        inHeaders = false
                    } else if line.readableBytesView.starts(with: "X-Herald-Event: ".utf8) {
                        eventID = String(buffer: line.getSlice(at: line.readerIndex + 16, length: line.readableBytes - 16) ?? ByteBuffer())
                    }
                }
                return false
            }
            let command = String(buffer: line).prefix(4).uppercased()
            switch command {
            case "EHLO": reply(context, "250-herald-bench-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
            case "MAIL":
                startedAt = .now
                reply(context, "250 OK\r\n")
            case "HELO", "RCPT", "RSET", "NOOP": reply(context, "250 OK\r\n")
            case "DATA":
                inData = true
                inHeaders = true
                eventID = nil
                reply(context, "354 End data with <CR><LF>.<CR><LF>\r\n")
            case "QUIT":
                reply(context, "221 Bye\r\n")
                context.flush()
                context.close(promise: nil)
            default: reply(context, "502 5.5.2 Command not recognized\r\n")
            }
            return true
        }

        private func accept(_ context: ChannelHandlerContext) {
            let arrival = Arrival(eventID: eventID, at: .now, startedAt: startedAt, connection: connection)
            state.arrivals.withLock { $0.append(arrival) }
            reply(context, "250 2.0.0 OK\r\n")
        }

        private func reply(_ context: ChannelHandlerContext, _ text: String) {
            context.write(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }
    }
}
