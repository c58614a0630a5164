import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HeraldServer

/// The guard's rules on an `EmbeddedChannel`, with its clock advanced by hand.
@Suite("ConnectionGuardHandler")
struct ConnectionGuardHandlerTests {
    static let timeouts = ConnectionGuard.Timeouts(head: .seconds(2), body: .seconds(5), idle: .seconds(10), linger: .seconds(1))

    /// A connected channel with only the guard in it.
    func connected() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuardHandler(timeouts: Self.timeouts))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        return channel
    }

    static let head = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz"))
    static let responseHead = HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok))

    /// A read that completed no request part (part of a head).
    func bytesWithoutAPart(_ channel: EmbeddedChannel) {
        channel.pipeline.fireChannelReadComplete()
    }

    @Test("a connection silent for the whole head timeout is closed")
    func silentConnectionIsClosedAtTheHeadDeadline() throws {
        let channel = try connected()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("bytes of a first head do not move its deadline: a head trickled byte by byte is closed on time")
    func trickledHeadIsClosedAtTheHeadDeadline() throws {
        let channel = try connected()
        for _ in 0..<19 {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
            bytesWithoutAPart(channel)
        }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("a body must arrive within the body timeout of its head")
    func slowBodyIsCutOff() throws {
        let channel = try connected()
        try channel.writeInbound(Self.head)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(4900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("a response being written has no deadline (a live SSE stream), and the idle timeout starts when it ends")
    func responseIsNotTimedThenIdleIs() throws {
        let channel = try connected()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try channel.writeOutbound(Self.responseHead)
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(9900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("on a kept-alive connection the next request's first bytes start its head deadline")
    func keptAliveHeadDeadline() throws {
        let channel = try connected()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try channel.writeOutbound(Self.responseHead)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        bytesWithoutAPart(channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test(
        "a head the decoder refuses is answered, 400 or 431, with Connection: close, and the connection closed",
        arguments: [
            (HTTPParserError.invalidHeaderToken, HTTPResponseStatus.badRequest),
            (HTTPParserError.invalidMethod, .badRequest),
            (HTTPParserError.invalidVersion, .badRequest),
            (HTTPParserError.unexpectedContentLength, .badRequest),
            (HTTPParserError.headerOverflow, .requestHeaderFieldsTooLarge),
        ])
    func refusedHeadIsAnswered(_ error: HTTPParserError, _ status: HTTPResponseStatus) throws {
        let channel = try connected()
        channel.pipeline.fireErrorCaught(error)
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no answer")
            return
        }
        #expect(head.status == status)
        #expect(head.headers["Connection"] == ["close"])
        #expect(head.headers["Content-Length"] == ["0"])
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == .end(nil))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a parse error in a request's body is that request's: passed on to Hummingbird, not answered here")
    func bodyErrorIsForwarded() throws {
        let channel = try connected()
        try channel.writeInbound(Self.head)
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(throws: HTTPParserError.invalidChunkSize) { try channel.throwIfErrorCaught() }
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
    }

    @Test("shutdown's quiesce event closes a connection that has not delivered a request, and is passed on after one")
    func quiesce() throws {
        let silent = try connected()
        silent.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!silent.isActive)

        let busy = try connected()
        try busy.writeInbound(Self.head)
        busy.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.isActive)
        _ = try busy.finish()
    }

    @Test("a completed WebSocket upgrade takes the guard out of the pipeline, and no deadline applies any more")
    func upgradeRemovesTheGuard() throws {
        let handler = ConnectionGuardHandler(timeouts: Self.timeouts)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/inbox/ws")
        channel.pipeline.fireUserInboundEventTriggered(HTTPServerUpgradeEvents.upgradeComplete(toProtocol: "websocket", upgradeRequest: request))
        #expect(throws: ChannelPipelineError.notFound) { try channel.pipeline.syncOperations.context(handler: handler) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}

@Suite("ConnectionCap")
struct ConnectionCapTests {
    @Test("beyond the cap connections are refused; the flood is reported once as it begins and once when the count falls back")
    func oneNoticePerFlood() {
        var cap = ConnectionCap(limit: 100)
        #expect(cap.recoveryLevel == 90)
        for _ in 0..<100 { #expect(cap.opened() == (true, .quiet)) }
        #expect(cap.opened() == (false, .saturated(open: 100)))
        for _ in 0..<500 { #expect(cap.opened() == (false, .quiet)) }
        // A count hovering at the cap is the same flood.
        for _ in 0..<5 {
            #expect(cap.closed() == .quiet)
            #expect(cap.opened() == (true, .quiet))
            #expect(cap.opened() == (false, .quiet))
        }
        for _ in 0..<9 { #expect(cap.closed() == .quiet) }
        #expect(cap.closed() == .recovered(refused: 506, open: 90))
        for _ in 0..<10 { #expect(cap.opened() == (true, .quiet)) }
        #expect(cap.opened() == (false, .saturated(open: 100)))
    }
}

@Suite("ConnectionGate")
struct ConnectionGateTests {
    @Test("connections are admitted in the order they were accepted, whatever order their setups run in")
    func admittedInAcceptOrder() throws {
        let gate = ConnectionGate(limit: 2, logger: Logger(label: "test"))
        let listening = EmbeddedChannel(handler: ConnectionGate.AcceptOrder(gate: gate))
        let accepted = (0..<3).map { _ in EmbeddedChannel() }
        for channel in accepted { try listening.writeInbound(channel as any Channel) }
        // Setups on several event loops can run in any order: the last accepted first.
        #expect(!gate.admit(accepted[2]))
        #expect(gate.admit(accepted[1]))
        #expect(gate.admit(accepted[0]))
        #expect(gate.open == 2)
        #expect(!accepted[2].isActive)
        // A closed connection gives its place to the next one accepted.
        try accepted[0].close().wait()
        accepted[0].embeddedEventLoop.run()
        #expect(gate.open == 1)
        let next = EmbeddedChannel()
        try listening.writeInbound(next as any Channel)
        #expect(gate.admit(next))
        #expect(gate.open == 2)
    }
}
