import NIOCore
import NIOPosix
import Synchronization

/// An SMTP server in the test process, on loopback, that holds back its `250` to a message whose recipient
/// starts with `held` until ``openGate()``, and notes the order in which it accepted messages.
///
/// With it a test puts a bulk transaction on the wire and keeps it there, so the order in which the pool hands
/// out connections is seen in the acceptance order, with no timing involved.
final class GatedSMTPServer: Sendable {
    private let channel: any Channel
    private let state: State
    let port: Int

    final class State: Sendable {
        /// Recipients of accepted messages, in the order they were accepted.
        let accepted = Mutex<[String]>([])
        /// Messages whose end of data waits for the gate.
        let waiting = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
        let gate: EventLoopPromise<Void>

        init(gate: EventLoopPromise<Void>) { self.gate = gate }
    }

    private init(channel: any Channel, state: State, port: Int) {
        self.channel = channel
        self.state = state
        self.port = port
    }

    static func start() async throws -> GatedSMTPServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let state = State(gate: group.next().makePromise())
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                state.connections.add(1, ordering: .relaxed)
                return child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(Session(state: state)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return GatedSMTPServer(channel: channel, state: state, port: channel.localAddress?.port ?? 0)
    }

    var accepted: [String] { state.accepted.withLock { $0 } }
    var waitingAtGate: Int { state.waiting.load(ordering: .relaxed) }
    var connections: Int { state.connections.load(ordering: .relaxed) }

    /// Lets every held message through, now and from now on.
    func openGate() { state.gate.succeed() }

    func stop() async {
        openGate()
        try? await channel.close()
    }

    /// One session: EHLO with PIPELINING, everything accepted, each message's `250` after the gate when held.
    final class Session: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let state: State
        private var buffer = ByteBuffer()
        private var inData = false
        private var recipient = ""

        init(state: State) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            reply(context, "220 gated ESMTP\r\n")
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                guard var bytes = buffer.readBytes(length: newline - buffer.readerIndex + 1) else { break }
                while bytes.last == UInt8(ascii: "\n") || bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                let line = String(decoding: bytes, as: UTF8.self)
                handle(context, line)
            }
            buffer.discardReadBytes()
        }

        private func handle(_ context: ChannelHandlerContext, _ line: String) {
            if inData {
                guard line == "." else { return }
                inData = false
                let recipient = self.recipient
                if recipient.hasPrefix("held") {
                    state.waiting.add(1, ordering: .relaxed)
                    state.gate.futureResult.hop(to: context.eventLoop).assumeIsolated().whenSuccess { [state] _ in
                        state.waiting.subtract(1, ordering: .relaxed)
                        self.accept(context, recipient)
                    }
                } else {
                    accept(context, recipient)
                }
                return
            }
            switch line.prefix(4).uppercased() {
            case "EHLO": reply(context, "250-gated\r\n250 PIPELINING\r\n")
            case "RCPT":
                recipient = String(line.drop { $0 != "<" }.dropFirst().prefix { $0 != ">" })
                reply(context, "250 OK\r\n")
            case "DATA":
                inData = true
                reply(context, "354 go ahead\r\n")
            case "QUIT":
                reply(context, "221 bye\r\n")
                context.close(promise: nil)
            default: reply(context, "250 OK\r\n")
            }
        }

        private func accept(_ context: ChannelHandlerContext, _ recipient: String) {
            state.accepted.withLock { $0.append(recipient) }
            reply(context, "250 2.0.0 accepted\r\n")
        }

        private func reply(_ context: ChannelHandlerContext, _ text: String) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        }
    }
}
