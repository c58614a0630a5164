import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import Herald

/// The inbound listener over real sockets on 127.0.0.1: whole sessions, pipelining, hostile and slow
/// clients, a 50 MB message, the connection limit and shutdown. Every wait is bounded: a client closes its
/// socket after `InboundTestClient.safetyTimeout`, so a hung server fails a test instead of stalling the run.
@Suite("Inbound mail server", .serialized)
struct InboundMailServerTests {
    /// What the server handed to `deliver`.
    final class Inbox: Sendable {
        let mails = Mutex<[InboundMail]>([])
        let policyQuestions = Mutex<[String]>([])
        var count: Int { mails.withLock { $0.count } }
        var first: InboundMail? { mails.withLock { $0.first } }
    }

    static let bounceAddress = "bounces+12.0123456789abcdef01234567@bounce.herald.test"

    static func configuration(
        maxMessageBytes: Int = 10 << 20, commandTimeout: Double = 5, dataTimeout: Double = 5, sessionTimeout: Double = 20,
        maxConnections: Int = 100, maxErrors: Int = 10
    ) -> InboundMailServer.Configuration {
        InboundMailServer.Configuration(
            host: "127.0.0.1", port: 0, hostname: "mx.herald.test", maxMessageBytes: maxMessageBytes,
            commandTimeout: Seconds(clamping: commandTimeout), dataTimeout: Seconds(clamping: dataTimeout),
            sessionTimeout: Seconds(clamping: sessionTimeout), maxConnections: maxConnections, maxErrors: maxErrors)
    }

    /// Runs a server for `body`, then stops it and waits for it to finish. The policy accepts `bounces+…`
    /// addresses only (after a short pause, like a store lookup), and `deliver` records and accepts.
    static func withServer(
        _ configuration: InboundMailServer.Configuration = configuration(), inbox: Inbox = Inbox(),
        _ body: (InboundMailServer, Int, Inbox) async throws -> Void
    ) async throws {
        let server = InboundMailServer(
            configuration: configuration, logger: Logger(label: "test.inbound-smtp"),
            recipientPolicy: { address in
                inbox.policyQuestions.withLock { $0.append(address) }
                try? await Task.sleep(for: .milliseconds(2))
                return address.lowercased().hasPrefix("bounces+") ? .accept : .refuse(code: 550, text: "5.1.1 No such user here")
            },
            deliver: { mail in
                inbox.mails.withLock { $0.append(mail) }
                return .accepted
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.boundPort()
            #expect(port > 0)
            try await body(server, port, inbox)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// A test message with a line starting with a dot, written with bare `\n` and sent with CRLF.
    static let message = [
        "From: MAILER-DAEMON@mx.example.org", "To: \(bounceAddress)", "Subject: Undelivered Mail Returned to Sender", "",
        "This is the mail system.", ".a line that starts with a dot", "..and one with two", ".", "end",
    ].joined(separator: "\r\n") + "\r\n"

    /// `message` dot-stuffed, as a client sends it.
    static var stuffedMessage: String {
        message.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }

    @Test("a whole session hands the message to deliver, dot-unstuffed, even with CRLF.CRLF split across writes")
    func fullSession() async throws {
        try await Self.withServer { _, port, inbox in
            try await InboundTestClient.withConnection(port: port) { client in
                #expect(try await client.reply()?.code == 220)
                try await client.send("EHLO mx.example.org\r\n")
                let ehlo = try await client.reply()
                #expect(ehlo?.lines == ["mx.herald.test greets mx.example.org", "SIZE 10485760", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"])
                try await client.send("MAIL FROM:<>\r\n")
                #expect(try await client.reply()?.code == 250)
                try await client.send("RCPT TO:<\(Self.bounceAddress)>\r\n")
                #expect(try await client.reply()?.code == 250)
                try await client.send("DATA\r\n")
                #expect(try await client.reply()?.code == 354)
                let stuffed = Array(Self.stuffedMessage.utf8)
                try await client.send(Array(stuffed[..<20]))
                try await client.send(Array(stuffed[20..<(stuffed.count - 1)]))
                try await client.send(Array(stuffed[(stuffed.count - 1)...]) + Array(".".utf8))
                try await client.send("\r")
                try await client.send("\n")
                let end = try await client.reply()
                #expect(end == SMTPReply(code: 250, lines: ["2.0.0 OK: message accepted"]))
                try await client.send("QUIT\r\n")
                #expect(try await client.reply()?.code == 221)
                #expect(try await client.reply() == nil)
            }
            let mail = try #require(inbox.first)
            #expect(String(decoding: mail.message, as: UTF8.self) == Self.message)
            #expect(mail.reversePath == "" && mail.recipients == [Self.bounceAddress] && mail.heloName == "mx.example.org")
            #expect(mail.peerAddress == "127.0.0.1")
        }
    }

    @Test("a recipient the policy refuses gets 550, and nothing is delivered")
    func refusedRecipient() async throws {
        try await Self.withServer { _, port, inbox in
            try await InboundTestClient.withConnection(port: port) { client in
                _ = try await client.reply()
                for (command, code) in [
                    ("HELO spammer.example", 250), ("MAIL FROM:<spam@spammer.example>", 250), ("RCPT TO:<victim@elsewhere.example>", 550),
                    ("RCPT TO:<@bounce.herald.test:victim@elsewhere.example>", 550), ("DATA", 554),
                ] {
                    try await client.send(command + "\r\n")
                    #expect(try await client.reply()?.code == code, "\(command)")
                }
            }
            #expect(inbox.count == 0)
            #expect(inbox.policyQuestions.withLock { $0 } == ["victim@elsewhere.example", "victim@elsewhere.example"])
        }
    }

    @Test("pipelined commands, data and QUIT in few writes get their replies in order")
    func pipelining() async throws {
        try await Self.withServer { _, port, inbox in
            try await InboundTestClient.withConnection(port: port) { client in
                _ = try await client.reply()
                try await client.send(
                    "EHLO c\r\nMAIL FROM:<> SIZE=200\r\nRCPT TO:<\(Self.bounceAddress)>\r\nRCPT TO:<x@else.example>\r\n"
                        + "RCPT TO:<bounces+13.ab@bounce.herald.test>\r\nDATA\r\n")
                var codes: [Int] = []
                for _ in 0..<6 { codes.append(try await client.reply()?.code ?? 0) }
                #expect(codes == [250, 250, 250, 550, 250, 354])
                try await client.send(Self.stuffedMessage + ".\r\nMAIL FROM:<>\r\nRCPT TO:<\(Self.bounceAddress)>\r\nDATA\r\n")
                codes = []
                for _ in 0..<4 { codes.append(try await client.reply()?.code ?? 0) }
                #expect(codes == [250, 250, 250, 354])
                try await client.send("Subject: second\r\n\r\nbody\r\n.\r\nQUIT\r\n")
                #expect(try await client.reply()?.code == 250)
                #expect(try await client.reply()?.code == 221)
                #expect(try await client.reply() == nil)
            }
            let mails = inbox.mails.withLock { $0 }
            #expect(mails.map(\.recipients) == [[Self.bounceAddress, "bounces+13.ab@bounce.herald.test"], [Self.bounceAddress]])
            #expect(mails.last.map { String(decoding: $0.message, as: UTF8.self) } == "Subject: second\r\n\r\nbody\r\n")
        }
    }

    @Test("a fuzzed command stream does not take the server down; a new connection still gets a whole session")
    func fuzzedStream() async throws {
        try await Self.withServer(Self.configuration(maxErrors: 1_000_000)) { _, port, inbox in
            var generator = InboundFuzzGenerator(seed: 0xF022)
            let tokens = [
                "EHLO x", "HELO", "MAIL FROM:<>", "MAIL FROM:<a@b.example> SIZE=99999999999", "RCPT TO:<\(Self.bounceAddress)>",
                "RCPT TO:<x@y.example>", "DATA", ".", "RSET", "NOOP", "VRFY root", "AUTH LOGIN", "STARTTLS", "BDAT 10", "\u{0}", "<>", ":",
            ]
            var stream: [UInt8] = []
            for _ in 0..<4000 {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: stream += Array(tokens.randomElement(using: &generator)!.utf8) + [13, 10]
                case 1: stream += (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                case 2: stream += Array(repeating: UInt8(ascii: "A"), count: Int.random(in: 500...700, using: &generator)) + [10]
                default: stream += (0..<Int.random(in: 1...20, using: &generator)).map { _ in UInt8.random(in: 32...126, using: &generator) } + [13, 10]
                }
            }
            stream += Array("\r\n.\r\nQUIT\r\n".utf8)
            let received = try await InboundTestClient.withConnection(port: port) { client in try await client.sendWhileDraining(stream) }
            #expect(received > 0)
            // Random bytes on fresh connections, each ended by a QUIT on a line of its own.
            for _ in 0..<20 {
                let bytes = (0..<Int.random(in: 1...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = try await InboundTestClient.withConnection(port: port) { client in
                    try await client.sendWhileDraining(bytes + Array("\r\nQUIT\r\n".utf8))
                }
            }
            let before = inbox.count
            try await InboundTestClient.withConnection(port: port) { client in
                try await client.normalSession()
            }
            #expect(inbox.count == before + 1)
        }
    }

    @Test("a 50 MB message is read to its end and refused with 552, never delivered; the next session works")
    func hugeMessage() async throws {
        try await Self.withServer { _, port, inbox in
            try await InboundTestClient.withConnection(port: port) { client in
                _ = try await client.reply()
                try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<\(Self.bounceAddress)>\r\nDATA\r\n")
                for _ in 0..<4 { _ = try await client.reply() }
                let line = Array(repeating: UInt8(ascii: "x"), count: 998) + [13, 10]
                let chunk = Array((0..<64).map { _ in line }.joined())
                var sent = 0
                while sent < 50 << 20 {
                    try await client.send(chunk)
                    sent += chunk.count
                }
                try await client.send(".\r\n")
                #expect(try await client.reply() == SMTPReply(code: 552, lines: ["5.3.4 Message size exceeds the fixed limit of 10485760 bytes"]))
                try await client.send("RSET\r\n")
                #expect(try await client.reply()?.code == 250)
            }
            #expect(inbox.count == 0)
            try await InboundTestClient.withConnection(port: port) { client in try await client.normalSession() }
            #expect(inbox.count == 1)
        }
    }

    @Test("a silent client is closed with 421 after the command timeout")
    func silentClient() async throws {
        try await Self.withServer(Self.configuration(commandTimeout: 0.5)) { _, port, _ in
            // From before the connection opens: the server's wait starts when it greets, which is after this. Timed
            // from the greeting's arrival it once came out under 400 ms: a loaded machine handed the client the
            // greeting late.
            let start = ContinuousClock.now
            try await InboundTestClient.withConnection(port: port) { (client: inout InboundTestClient) async throws in
                #expect(try await client.reply()?.code == 220)
                #expect(try await client.reply() == SMTPReply(code: 421, lines: ["4.4.2 mx.herald.test Timeout, closing the connection"]))
                #expect(try await client.reply() == nil)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed > .milliseconds(450) && elapsed < .seconds(5), "\(elapsed)")
            }
        }
    }

    @Test("a client that stalls in DATA is closed with 421 after the data timeout")
    func stalledData() async throws {
        try await Self.withServer(Self.configuration(dataTimeout: 0.5)) { _, port, inbox in
            try await InboundTestClient.withConnection(port: port) { client in
                _ = try await client.reply()
                try await client.send("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<\(Self.bounceAddress)>\r\nDATA\r\n")
                for _ in 0..<4 { _ = try await client.reply() }
                try await client.send("Subject: half\r\n")
                #expect(try await client.reply()?.code == 421)
                #expect(try await client.reply() == nil)
            }
            #expect(inbox.count == 0)
        }
    }

    @Test("a client dripping a byte every tenth of a second is bounded by the session timeout")
    func drippingClient() async throws {
        // The command arrives well within the session (0.6 s of 3 s) even on a loaded machine; then the session ends.
        try await Self.withServer(Self.configuration(commandTimeout: 10, sessionTimeout: 3)) { _, port, _ in
            let start = ContinuousClock.now
            let replies = try await InboundTestClient.withConnection(port: port) { client in
                try await client.drip(Array("NOOP\r\n".utf8), every: .milliseconds(100))
            }
            let elapsed = ContinuousClock.now - start
            // The drip goes on, NOOP after NOOP, each answered, until the session timeout ends it with 421.
            let codes = replies.map(\.code)
            #expect(codes.first == 220 && codes.last == 421 && codes.count >= 3, "\(codes)")
            #expect(codes.dropFirst().dropLast().allSatisfy { $0 == 250 }, "\(codes)")
            #expect(elapsed > .milliseconds(2800) && elapsed < .seconds(10))
        }
    }

    @Test("a client that pipelines commands but never reads the replies is paused, not buffered, then timed out")
    func clientThatDoesNotRead() async throws {
        try await Self.withServer(Self.configuration(commandTimeout: 1)) { _, port, _ in
            // A plain blocking socket, so what `send` accepts is what the kernel took, and a small receive
            // buffer, so the server's replies back up soon. Each 8-byte EHLO is answered by about 100 bytes.
            let socket = try BlockingTestSocket(port: port, receiveBuffer: 4096, sendTimeout: 0.5)
            let chunk = Array(String(repeating: "EHLO x\r\n", count: 8000).utf8)
            let start = ContinuousClock.now
            var accepted = 0
            var outcome = BlockingTestSocket.SendOutcome.sent(0)
            // Generous bounds: on a loaded machine the close after the 1 s command timeout can take a few seconds.
            while ContinuousClock.now - start < .seconds(30), accepted < 256 << 20 {
                outcome = socket.send(chunk)
                if case .sent(let count) = outcome { accepted += count } else if case .closed = outcome { break }
            }
            // The server stopped reading once its replies backed up, then closed after the command timeout:
            // far less than it was offered went in, and the socket was closed by the server, not by us.
            #expect(outcome == .closed, "the server never closed the connection; \(accepted) bytes accepted")
            #expect(accepted < 64 << 20)
            #expect(ContinuousClock.now - start < .seconds(30))
        }
    }

    @Test("beyond maxConnections a new connection gets 421 and is closed; a freed slot is usable again")
    func connectionLimit() async throws {
        try await Self.withServer(Self.configuration(maxConnections: 2)) { server, port, _ in
            try await InboundTestClient.withConnection(port: port) { first in
                #expect(try await first.reply()?.code == 220)
                try await InboundTestClient.withConnection(port: port) { second in
                    #expect(try await second.reply()?.code == 220)
                    try await InboundTestClient.withConnection(port: port) { third in
                        let reply = try await third.reply()
                        #expect(reply == SMTPReply(code: 421, lines: ["4.7.0 mx.herald.test Too many connections, try again later"]))
                        #expect(try await third.reply() == nil)
                    }
                    try await second.send("QUIT\r\n")
                    #expect(try await second.reply()?.code == 221)
                }
                let deadline = ContinuousClock.now + .seconds(3)
                while server.openConnections > 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await InboundTestClient.withConnection(port: port) { fourth in try await fourth.normalSession() }
                try await first.send("NOOP\r\n")
                #expect(try await first.reply()?.code == 250)
            }
        }
    }

    @Test("graceful shutdown stops listening and ends open sessions with 421")
    func gracefulShutdown() async throws {
        let inbox = Inbox()
        let server = InboundMailServer(
            configuration: Self.configuration(), logger: Logger(label: "test.inbound-smtp"), recipientPolicy: { _ in .accept },
            deliver: { mail in
                inbox.mails.withLock { $0.append(mail) }
                return .accepted
            })
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test.inbound-smtp")))
        var port = 0
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            port = try await server.boundPort()
            try await InboundTestClient.withConnection(port: port) { (client: inout InboundTestClient) async throws in
                #expect(try await client.reply()?.code == 220)
                await group.triggerGracefulShutdown()
                #expect(try await client.reply() == SMTPReply(code: 421, lines: ["4.3.2 mx.herald.test Shutting down, try again later"]))
                #expect(try await client.reply() == nil)
            }
            try await tasks.waitForAll()
        }
        await #expect(throws: (any Error).self) { _ = try await server.boundPort() }
        let closedPort = port
        await #expect(throws: (any Error).self) { try await InboundTestClient.withConnection(port: closedPort) { _ in } }
    }

    @Test("the data reader finds the end and unstuffs dots however the bytes are split, and keeps nothing past the limit")
    func dataReaderSplits() {
        let wire = Array((Self.stuffedMessage + ".\r\nQUIT\r\n").utf8)
        let expected = Array(Self.message.utf8)
        var generator = InboundFuzzGenerator(seed: 7)
        for round in 0..<300 {
            var reader = InboundDataReader(limit: 1000)
            var offset = 0
            while offset < wire.count, !reader.finished {
                let length = round == 0 ? 1 : Int.random(in: 1...12, using: &generator)
                let piece = Array(wire[offset..<min(offset + length, wire.count)])
                offset += reader.consume(piece)
                if !reader.finished { #expect(offset <= wire.count) }
            }
            #expect(reader.finished && reader.message == expected && !reader.tooLarge)
            #expect(Array(wire[offset...]) == Array("QUIT\r\n".utf8))
        }
        // No end marker in `LF.LF` or `CR.CR` (SMTP smuggling), and a message over the limit is only counted.
        var reader = InboundDataReader(limit: 10)
        #expect(reader.consume(Array("a\n.\nb\r.\rc".utf8)) == 9)
        #expect(!reader.finished && reader.tooLarge == false)
        #expect(reader.consume(Array(repeating: UInt8(ascii: "y"), count: 5_000_000)) == 5_000_000)
        #expect(reader.tooLarge && reader.message.isEmpty && reader.size == 5_000_009)
        #expect(reader.consume(Array("\r\n.\r\n".utf8)) == 5)
        #expect(reader.finished && reader.size == 5_000_011)
        var empty = InboundDataReader(limit: 10)
        #expect(empty.consume(Array(".\r\n".utf8)) == 3 && empty.finished && empty.message.isEmpty)
    }
}

/// A minimal SMTP client over NIO for these tests.
struct InboundTestClient {
    /// The socket is closed after this long whatever happens, so no test can hang on the server.
    static let safetyTimeout = TimeAmount.seconds(15)

    let stream: NIOAsyncChannelInboundStream<ByteBuffer>
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// Made on the first `reply()`: a stream can be iterated once, so `sendWhileDraining` and `drip`, which
    /// read it themselves, must come before any `reply()`.
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator?
    private var pending: [UInt8] = []
    private var parser = SMTPReplyParser()

    static func withConnection<Result: Sendable>(port: Int, _ body: (inout InboundTestClient) async throws -> Result) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let raw = channel.channel
        let safety = raw.eventLoop.scheduleTask(in: safetyTimeout) { raw.close(promise: nil) }
        defer { safety.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var client = InboundTestClient(stream: inbound, outbound: outbound)
            return try await body(&client)
        }
    }

    func send(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text)) }

    func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }

    /// The next reply, or nil once the server has closed the connection.
    mutating func reply() async throws -> SMTPReply? {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                var line = pending[..<newline]
                pending.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                if let reply = try parser.feed(Substring(String(decoding: line, as: UTF8.self))) { return reply }
                continue
            }
            if inbound == nil { inbound = stream.makeAsyncIterator() }
            do {
                guard let next = try await inbound?.next() else { return nil }
                pending += next.readableBytesView
            } catch {
                return nil
            }
        }
    }

    /// EHLO, one message to the bounce address, QUIT; expects every reply to be positive.
    mutating func normalSession() async throws {
        let greeting = try await reply()
        #expect(greeting?.code == 220)
        for command in ["EHLO c", "MAIL FROM:<>", "RCPT TO:<\(InboundMailServerTests.bounceAddress)>", "DATA"] {
            try await send(command + "\r\n")
            let answer = try await reply()
            #expect(answer.map { $0.code < 400 } == true, "\(command): \(String(describing: answer))")
        }
        try await send("Subject: ok\r\n\r\nfine\r\n.\r\nQUIT\r\n")
        #expect(try await reply()?.code == 250)
        #expect(try await reply()?.code == 221)
    }

    /// Writes `bytes` in pieces while reading whatever comes back (a client that does not read would stall
    /// on a server that stops reading when its replies are not read); returns the bytes received.
    func sendWhileDraining(_ bytes: [UInt8]) async throws -> Int {
        let outbound = self.outbound
        let stream = self.stream
        return try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + 4096, bytes.count)
                    do { try await outbound.write(ByteBuffer(bytes: bytes[offset..<end])) } catch { break }
                    offset = end
                }
                return 0
            }
            group.addTask {
                var received = 0
                do {
                    for try await buffer in stream { received += buffer.readableBytes }
                } catch {}
                return received
            }
            return try await group.reduce(0, +)
        }
    }

    /// Sends `bytes` one at a time, `interval` apart and over and over, while collecting replies until the server closes.
    func drip(_ bytes: [UInt8], every interval: Duration) async throws -> [SMTPReply] {
        let outbound = self.outbound
        let stream = self.stream
        return try await withThrowingTaskGroup(of: [SMTPReply].self) { group in
            group.addTask {
                var index = 0
                while !Task.isCancelled {
                    do { try await outbound.write(ByteBuffer(bytes: [bytes[index % bytes.count]])) } catch { break }
                    index += 1
                    try? await Task.sleep(for: interval)
                }
                return []
            }
            group.addTask {
                var reader = InboundTestClient(stream: stream, outbound: outbound)
                var replies: [SMTPReply] = []
                while let reply = try await reader.reply() { replies.append(reply) }
                return replies
            }
            let replies = try await group.next() ?? []
            group.cancelAll()
            return replies + (try await group.reduce([], +))
        }
    }
}

/// A blocking TCP client socket, for the test that must see exactly how much the kernel accepted.
final class BlockingTestSocket {
    enum SendOutcome: Equatable {
        case sent(Int)
        /// Nothing could be sent within the send timeout.
        case blocked
        /// The peer closed or reset the connection.
        case closed
    }

    private let descriptor: Int32

    init(port: Int, receiveBuffer: Int32, sendTimeout: Double) throws {
        #if canImport(Glibc)
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            descriptor = socket(AF_INET, SOCK_STREAM, 0)
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        guard descriptor >= 0 else { throw SMTPHarnessError("socket() failed") }
        var size = receiveBuffer
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: Int(sendTimeout), tv_usec: Int((sendTimeout - sendTimeout.rounded(.down)) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw SMTPHarnessError("connect() failed")
        }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) -> SendOutcome {
        #if canImport(Glibc)
            let result = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #else
            let result = bytes.withUnsafeBytes { Darwin.send(descriptor, $0.baseAddress, $0.count, 0) }
        #endif
        if result > 0 { return .sent(result) }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .blocked : .closed
    }
}

