import NIOCore
import NIOEmbedded
import Testing

@testable import HeraldServer

@Suite("SilentConnectionHandler")
struct SilentConnectionHandlerTests {
    @Test("a connection silent for the whole timeout is closed")
    func silentConnectionIsClosedAtTheTimeout() throws {
        let channel = EmbeddedChannel(handler: SilentConnectionHandler(timeout: .seconds(2)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("the first bytes pass on, the handler leaves the pipeline, and the timeout no longer applies")
    func firstBytesDisarmTheTimeout() throws {
        let handler = SilentConnectionHandler(timeout: .seconds(2))
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(throws: ChannelPipelineError.notFound) { try channel.pipeline.syncOperations.context(handler: handler) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("shutdown's quiesce event closes a connection that has not spoken")
    func quiesceClosesASilentConnection() throws {
        let channel = EmbeddedChannel(handler: SilentConnectionHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive)
    }
}
