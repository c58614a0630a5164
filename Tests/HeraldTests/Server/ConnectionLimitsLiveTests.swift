import Foundation
import Herald
import HeraldServer
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

/// The connection limits over real sockets on 127.0.0.1, against a live server with short deadlines.
@Suite("HTTP connection limits over live sockets", .timeLimit(.minutes(2)))
struct ConnectionLimitsLiveTests {
    /// A hostile or broken request head and the answer it must get.
    struct MalformedHead: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let status: Int
        var testDescription: String { name }

        static let host = "Host: herald\r\n"
        static func head(_ text: String) -> [UInt8] { Array(text.utf8) }

        static let all: [MalformedHead] = [
            .init(name: "NUL in a header value", bytes: head("GET /healthz HTTP/1.1\r\n\(host)X-A: a\u{0}b\r\n\r\n"), status: 400),
            .init(name: "control byte in a header value", bytes: head("GET /healthz HTTP/1.1\r\n\(host)X-A: a\u{1}b\r\n\r\n"), status: 400),
            .init(name: "obs-fold", bytes: head("GET /healthz HTTP/1.1\r\n\(host)X-A: a\r\n folded\r\n\r\n"), status: 400),
            .init(
                name: "two Content-Lengths", bytes: head("POST /healthz HTTP/1.1\r\n\(host)Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy"),
                status: 400),
            .init(
                name: "Content-Length with Transfer-Encoding",
                bytes: head("POST /healthz HTTP/1.1\r\n\(host)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), status: 400),
            .init(name: "bad method", bytes: head("G@T /healthz HTTP/1.1\r\n\(host)\r\n"), status: 400),
            .init(
                name: "TLS ClientHello", bytes: [0x16, 0x03, 0x01, 0x00, 0xc4, 0x01, 0x00, 0x00, 0xc0, 0x03, 0x03] + Array(repeating: 7, count: 40),
                status: 400),
            .init(name: "HTTP/2 preface", bytes: head("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), status: 400),
            .init(
                name: "1 MiB header", bytes: head("GET /healthz HTTP/1.1\r\n\(host)X-Big: \(String(repeating: "a", count: 1 << 20))\r\n\r\n"),
                status: 431),
            .init(
                name: "10,000 headers",
                bytes: head("GET /healthz HTTP/1.1\r\n\(host)" + (0..<10_000).map { "X-H\($0): v\r\n" }.joined() + "\r\n"), status: 431),
        ]
    }

    static let partialHead = Array("GET /healthz HTTP/1.1\r\nHost: herald\r\nX-Slow: ".utf8)

    /// An engine whose server runs with `limits` (deadlines in seconds).
    static func engine(_ limits: @escaping (inout ConnectionLimits) -> Void) async throws -> HeraldEngine {
        try await TestEngine.make { limits(&$0.connections) }
    }

    @Test("a malformed or oversized head is answered 400 or 431 and the connection closed at once", arguments: MalformedHead.all)
    func malformedHead(_ head: MalformedHead) async throws {
        let engine = try await Self.engine { $0.headTimeoutSeconds = 30 }
        try await engine.withLiveServer { port in
            let connection = try await RawConnection.open(port: port, sending: head.bytes)
            let closedAfter = try #require(await connection.closed(within: .seconds(5)), "\(head.name): the connection was not closed")
            #expect(closedAfter < .seconds(2), "\(head.name): closed after \(closedAfter)")
            #expect(connection.text.hasPrefix("HTTP/1.1 \(head.status) "), "\(head.name): answered \(connection.text.prefix(40))")
            #expect(connection.text.lowercased().contains("connection: close"))
        }
    }

    @Test("a partial head, and a connection that sends nothing, are closed when the head deadline passes")
    func partialHeadIsClosedAtTheDeadline() async throws {
        let engine = try await Self.engine { $0.headTimeoutSeconds = 0.5 }
        try await engine.withLiveServer { port in
            let partial = try await RawConnection.open(port: port, sending: Self.partialHead)
            let silent = try await RawConnection.open(port: port, sending: [])
            for connection in [partial, silent] {
                let closedAfter = try #require(await connection.closed(within: .seconds(5)), "not closed at the head deadline")
                #expect(closedAfter > .milliseconds(300) && closedAfter < .seconds(3), "closed after \(closedAfter)")
                #expect(connection.text.isEmpty)
            }
        }
    }

    @Test("with many partial heads held open a fresh GET /healthz answers within 1 s, and the server closes them at the deadline")
    func partialHeadsDoNotStarveFreshRequests() async throws {
        let count = 500
        let engine = try await Self.engine { $0.headTimeoutSeconds = 3 }
        try await engine.withLiveServer { port in
            var held: [RawConnection] = []
            for _ in 0..<count { held.append(try await RawConnection.open(port: port, sending: Self.partialHead)) }
            let clock = ContinuousClock()
            let started = clock.now
            let healthz = try await RawConnection.open(
                port: port, sending: Array("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
            _ = await healthz.closed(within: .seconds(5))
            #expect(healthz.text.hasPrefix("HTTP/1.1 200 "), "answered \(healthz.text.prefix(40))")
            #expect(clock.now - started < .seconds(1), "GET /healthz took \(clock.now - started) with \(count) partial heads open")
            var open = 0
            for connection in held where await connection.closed(within: .seconds(8)) == nil { open += 1 }
            #expect(open == 0, "\(open) of \(count) partial heads were still open after the head deadline")
        }
    }

    @Test("a kept-alive connection with no request is closed after the idle timeout")
    func idleKeptAliveConnectionIsClosed() async throws {
        let engine = try await Self.engine { $0.idleTimeoutSeconds = 0.5 }
        try await engine.withLiveServer { port in
            let connection = try await RawConnection.open(port: port, sending: Array("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
            let closedAfter = try #require(await connection.closed(within: .seconds(5)), "the idle connection was not closed")
            #expect(connection.text.hasPrefix("HTTP/1.1 200 "))
            #expect(closedAfter > .milliseconds(300) && closedAfter < .seconds(3), "closed after \(closedAfter)")
        }
    }

    @Test("a body slower than the body deadline is cut off")
    func slowBodyIsCutOff() async throws {
        let engine = try await Self.engine { $0.bodyTimeoutSeconds = 0.5 }
        try await engine.withLiveServer { port in
            let connection = try await RawConnection.open(
                port: port,
                sending: Array("POST /v1/events HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ty".utf8))
            let closedAfter = try #require(await connection.closed(within: .seconds(5)), "the slow body was never cut off")
            #expect(closedAfter < .seconds(3), "closed after \(closedAfter)")
        }
    }

    @Test("an SSE stream and a WebSocket stay open well past every deadline")
    func streamsAreNotCut() async throws {
        let engine = try await TestEngine.make {
            $0.connections.headTimeoutSeconds = 0.3
            $0.connections.bodyTimeoutSeconds = 0.3
            $0.connections.idleTimeoutSeconds = 0.3
        }
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        let (token, _) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
        try await engine.withLiveServer { port in
            let sse = try await RawConnection.open(port: port, sending: Array("GET /v1/inbox/stream?token=\(token) HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
            let webSocket = try await RawConnection.open(
                port: port,
                sending: Array(
                    ("GET /v1/inbox/ws?token=\(token) HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
            #expect(await sse.closed(within: .milliseconds(1500)) == nil, "the SSE stream was closed")
            #expect(await webSocket.closed(within: .milliseconds(100)) == nil, "the WebSocket was closed")
            #expect(sse.text.hasPrefix("HTTP/1.1 200 "), "SSE answered \(sse.text.prefix(40))")
            #expect(webSocket.text.hasPrefix("HTTP/1.1 101 "), "WebSocket answered \(webSocket.text.prefix(40))")
            sse.close()
            webSocket.close()
        }
    }

    @Test("a flood past the connection cap is refused at once and logged once; the server answers again after the head deadline")
    func floodPastTheCap() async throws {
        let cap = 20
        let engine = try await TestEngine.make {
            $0.port = 0
            $0.connections.maxOpen = cap
            // Long enough that the held heads outlive opening and checking the flood on a loaded machine (with 4 s
            // they expired mid-flood in CI, and the flood then took their places).
            $0.connections.headTimeoutSeconds = 12
        }
        let recorder = LogRecorder()
        var logger = Logger(label: "herald-connections-test") { _ in RecordingLogHandler(recorder: recorder) }
        logger.logLevel = .notice
        // Run without HummingbirdTesting's client, whose own connection would take one of the cap's places.
        let bound = Mutex<Int?>(nil)
        let app = try await HeraldServer.application(engine: engine, logger: logger) { channel in
            bound.withLock { $0 = channel.localAddress?.port }
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        do {
            try #require(try await ServerProcessTests.ProcessHarness.eventually(timeout: 10) { bound.withLock { $0 } != nil })
            let port = try #require(bound.withLock { $0 })
            var held: [RawConnection] = []
            for _ in 0..<cap { held.append(try await RawConnection.open(port: port, sending: Self.partialHead)) }
            var flood: [RawConnection] = []
            for _ in 0..<(3 * cap) { flood.append(try await RawConnection.open(port: port, sending: Self.partialHead)) }
            for connection in flood {
                let closedAfter = await connection.closed(within: .seconds(1))
                #expect(closedAfter != nil, "a connection past the cap was not refused at once")
            }
            for connection in held { #expect(connection.isOpen, "a connection within the cap was closed early") }
            // The flood stops; the held heads reach their deadline and the server takes requests again.
            let clock = ContinuousClock()
            let stopped = clock.now
            var answered = false
            while !answered, clock.now - stopped < .seconds(12 + 6) {
                let healthz = try await RawConnection.open(
                    port: port, sending: Array("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
                _ = await healthz.closed(within: .seconds(1))
                answered = healthz.text.hasPrefix("HTTP/1.1 200 ")
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered, "GET /healthz did not answer within the head deadline after the flood")
            // The held connections close together at their deadline; the count falls back as they do.
            let recovered = try await ServerProcessTests.ProcessHarness.eventually(timeout: 3) {
                recorder.lines.contains { $0.contains("accepting new connections again") }
            }
            #expect(recovered)
            let lines = recorder.lines
            #expect(lines.filter { $0.contains("Connection limit reached") }.count == 1, "\(lines)")
            #expect(lines.filter { $0.contains("accepting new connections again") }.count == 1, "\(lines)")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// A raw TCP connection to the live server: the bytes sent, what came back, and when the server closed it.
final class RawConnection: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += buffer.readableBytesView }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)  // a reset is a close, as far as these tests go
        }
    }

    private let channel: any Channel
    private let collector: Collector
    private let opened = ContinuousClock.now
    private let closedAt = Mutex<ContinuousClock.Instant?>(nil)

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
        channel.closeFuture.whenComplete { _ in self.closedAt.withLock { $0 = ContinuousClock.now } }
    }

    static func open(port: Int, sending bytes: [UInt8]) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawConnection(channel: channel, collector: collector)
        if !bytes.isEmpty { channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil) }
        return connection
    }

    var text: String { String(decoding: collector.received.withLock { $0 }, as: UTF8.self) }
    var isOpen: Bool { channel.isActive }

    /// How long after opening the server closed the connection, waiting up to `timeout`; nil if it did not.
    func closed(within timeout: Duration) async -> Duration? {
        let closed = channel.eventLoop.makePromise(of: Bool.self)
        channel.closeFuture.whenComplete { _ in closed.succeed(true) }
        let timer = channel.eventLoop.scheduleTask(
            in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        ) {
            closed.succeed(false)
        }
        let didClose = (try? await closed.futureResult.get()) ?? false
        timer.cancel()
        guard didClose, let at = closedAt.withLock({ $0 }) else { return didClose ? ContinuousClock.now - opened : nil }
        return at - opened
    }

    func close() {
        channel.close(promise: nil)
    }
}
