import NIOCore

extension InboundMailServer {
    /// Tells a connection over the limit why it is turned away, then closes it without reading a byte.
    final class RefusingHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let hostname: String

        init(hostname: String) { self.hostname = hostname }

        func channelActive(context: ChannelHandlerContext) {
            let reply = ByteBuffer(string: "421 4.7.0 \(hostname) Too many connections, try again later\r\n")
            context.writeAndFlush(wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }
}
