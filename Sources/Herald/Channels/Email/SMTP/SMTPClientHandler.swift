import NIOCore
import NIOSSL
import Synchronization

/// Frames the server's bytes into replies and hands each to the request waiting for it, in order.
///
/// Requests carry how many replies they expect (one per pipelined command), so a pipelined group gets
/// its replies together. When the connection closes or errs, every waiting request fails; nothing is
/// left hanging.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request {
        var bytes: ByteBuffer?
        var expectedReplies: Int
        /// STARTTLS: after its reply, no further byte may arrive in clear text.
        var tlsFollows: Bool
        var promise: EventLoopPromise<[SMTPReply]>
    }

    /// Why the connection ended, shared with `SMTPConnection`: a write to a channel that is already
    /// closed fails before reaching this handler, and must still report the real cause (a TLS failure).
    final class FailureRecord: Sendable {
        let error = Mutex<SMTPError?>(nil)
    }

    let record: FailureRecord

    init(record: FailureRecord) {
        self.record = record
    }

    private var buffer: ByteBuffer?
    private var parser = SMTPReplyParser()
    private var pending = CircularBuffer<(request: Request, replies: [SMTPReply])>()
    private var failure: SMTPError?
    /// Replies that arrived before anyone asked: the greeting (which can beat the first read request),
    /// or a 421 announcing shutdown. The next request takes them first.
    private var unclaimed = CircularBuffer<SMTPReply>()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        do {
            while let reply = try nextReply() {
                guard !pending.isEmpty else {
                    if unclaimed.count >= 8 { throw SMTPError.malformedReply("the server keeps sending replies nobody asked for") }
                    unclaimed.append(reply)
                    continue
                }
                pending[pending.startIndex].replies.append(reply)
                if !completeHead(context: context) { return }
            }
        } catch {
            fail(context: context, error as? SMTPError ?? .malformedReply(String(describing: error)))
        }
        if let current = buffer, current.readableBytes == 0 { buffer = nil }
    }

    /// Succeeds the oldest request if it has all its replies. False when the connection had to be failed.
    private func completeHead(context: ChannelHandlerContext) -> Bool {
        guard let head = pending.first, head.replies.count == head.request.expectedReplies else { return true }
        pending.removeFirst()
        if head.request.tlsFollows, (buffer?.readableBytes ?? 0) > 0 || !unclaimed.isEmpty {
            head.request.promise.fail(SMTPError.unexpectedDataBeforeTLS)
            fail(context: context, .unexpectedDataBeforeTLS)
            return false
        }
        head.request.promise.succeed(head.replies)
        return true
    }

    private func nextReply() throws(SMTPError) -> SMTPReply? {
        while var current = buffer, let newline = current.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - current.readerIndex
            var line = current.readSlice(length: length)!
            current.moveReaderIndex(forwardBy: 1)
            buffer = current
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            if let reply = try parser.feed(Substring(line.readString(length: line.readableBytes) ?? "")) { return reply }
        }
        if let current = buffer, current.readableBytes > SMTPReplyParser.maximumLineLength {
            throw .malformedReply("a reply line longer than \(SMTPReplyParser.maximumLineLength) bytes")
        }
        return nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        pending.append((request, []))
        while let early = unclaimed.popFirst(), let last = pending.indices.last {
            pending[last].replies.append(early)
            if pending[last].replies.count == request.expectedReplies {
                if !completeHead(context: context) { return }
                break
            }
        }
        if let bytes = request.bytes {
            context.write(wrapOutboundOut(bytes), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(failure ?? .connectionFailed("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? SMTPError {
            fail(context: context, error)
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            fail(context: context, .tlsFailed(String(describing: error)))
        } else {
            fail(context: context, .connectionFailed(String(describing: error)))
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: SMTPError) {
        if failure == nil {
            failure = error
            record.error.withLock { $0 = $0 ?? error }
        }
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: SMTPError) {
        if failure == nil { failure = error }
        while let head = pending.popFirst() { head.request.promise.fail(error) }
    }
}
