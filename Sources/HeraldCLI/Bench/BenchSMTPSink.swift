import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The bench's own SMTP sink on loopback: accepts every message as fast as it can (PIPELINING, no
/// storage) and notes when each one arrived, keyed by its `X-Herald-Event` header, so a workload can
/// measure trigger → received.
final class BenchSMTPSink: Sendable {
    struct Arrival: Sendable {
        var eventID: String?
        var at: ContinuousClock.Instant
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

    static func start() async throws -> BenchSMTPSink {
        let state = SinkState()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                state.connections.add(1, ordering: .relaxed)
                return child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(SessionHandler(state: state)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return BenchSMTPSink(channel: channel, state: state, port: channel.localAddress?.port ?? 0)
    }

    var received: Int { state.arrivals.withLock { $0.count } }
    var connections: Int { state.connections.load(ordering: .relaxed) }
    var arrivals: [Arrival] { state.arrivals.withLock { $0 } }

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
        private var buffer = ByteBuffer()
        private var inData = false
        private var inHeaders = false
        private var eventID: String?

        init(state: SinkState) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            reply(context, "220 herald-bench-sink ESMTP\r\n")
            context.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            var wrote = false
            while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
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
                    let arrival = Arrival(eventID: eventID, at: .now)
                    state.arrivals.withLock { $0.append(arrival) }
                    reply(context, "250 2.0.0 OK\r\n")
                    return true
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
            case "HELO", "MAIL", "RCPT", "RSET", "NOOP": reply(context, "250 OK\r\n")
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

        private func reply(_ context: ChannelHandlerContext, _ text: String) {
            context.write(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }
    }
}
