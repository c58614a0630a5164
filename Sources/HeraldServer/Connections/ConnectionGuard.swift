import NIOCore

/// What one HTTP/1.1 connection is waiting for, and so which deadline runs: the rules that keep a slow or
/// malformed client from holding a socket, as a value with no I/O (``ConnectionGuardHandler`` drives it
/// and carries out its actions).
///
/// - A request head must arrive whole within the head timeout: from the accept for a connection's first
///   request (a connection that never sends a byte is closed then too), from the first byte of the next
///   request on a kept-alive connection.
/// - Its body must arrive within the body timeout of the head.
/// - While a response is being written nothing is timed: a live inbox stream (SSE) is a response that
///   does not end, and a WebSocket leaves the guard once upgraded.
/// - A kept-alive connection with no request in flight is closed after the idle timeout.
/// - A head the decoder refuses (a control byte, obs-fold, two Content-Lengths, Content-Length with
///   Transfer-Encoding, an unknown method, TLS or HTTP/2 on the plain port) is answered 400, one too
///   large or with too many fields 431, and the connection is closed: output at once, input once the
///   client has stopped sending or after a short linger, so the client reads the answer rather than a reset.
/// - On graceful shutdown a connection that has not delivered a request yet is closed; after that,
///   Hummingbird's own handler closes it between requests.
struct ConnectionGuard {
    enum Deadline: Equatable, Sendable {
        case head, body, idle, linger
    }

    /// How long each deadline gives.
    struct Timeouts: Equatable, Sendable {
        var head: TimeAmount
        var body: TimeAmount
        var idle: TimeAmount
        /// How long a refused client may go on sending after its answer, before the connection is reset.
        var linger: TimeAmount = .seconds(2)
    }

    enum TimerAction: Equatable {
        case none
        /// Replace whatever runs with this deadline.
        case arm(Deadline)
        case disarm
    }

    enum CloseAction: Equatable {
        case none
        case close
        /// Close as a client's own hang-up would: no request has reached Hummingbird yet, and its upgrade
        /// handler ends its wait quietly on input closed, where a bare close has it log an error.
        case closeQuietly
    }

    enum ResponseEndAction: Equatable {
        case none
        case arm(Deadline)
        /// A request after this one could not be parsed: close once the answer is flushed.
        case close
    }

    enum ErrorAction: Equatable {
        /// The error belongs to the request being read (its body): Hummingbird fails that request.
        case forward
        /// Already answered or closing: drop it.
        case ignore
        /// Answer with this status, close output, and let the client go within the linger deadline.
        case answer(status: Int)
    }

    enum EventAction: Equatable {
        case forward
        case close(CloseAction)
    }

    private(set) var armed: Deadline?
    /// Heads passed on to Hummingbird; before the first, the connection is still in the upgrade handler's hands.
    private(set) var headsReceived = 0
    /// Heads whose response has not ended.
    private(set) var requestsInFlight = 0
    private(set) var readingBody = false
    private(set) var closing = false
    /// Bytes of a next request have arrived since the last head.
    private var nextRequestStarted = false
    private var closeAfterResponse = false

    /// The connection is open: its first request's head deadline starts now.
    mutating func connectionActive() -> TimerAction {
        guard armed == nil, headsReceived == 0, !closing else { return .none }
        armed = .head
        return .arm(.head)
    }

    /// A read brought bytes that made no complete request part: on an idle kept-alive connection, the
    /// next request has begun, and its head deadline starts.
    mutating func bytesArrived() -> TimerAction {
        guard !closing, !readingBody else { return .none }
        nextRequestStarted = true
        guard armed == .idle else { return .none }
        armed = .head
        return .arm(.head)
    }

    mutating func headReceived() -> TimerAction {
        headsReceived += 1
        requestsInFlight += 1
        readingBody = true
        nextRequestStarted = false
        guard !closing else { return .none }
        armed = .body
        return .arm(.body)
    }

    mutating func endReceived() -> TimerAction {
        readingBody = false
        guard !closing else { return .none }
        // A response sent before the body was read (413, 401) has already ended.
        if requestsInFlight == 0 { return awaitNextRequest() }
        armed = nil
        return .disarm
    }

    mutating func responseEnded() -> ResponseEndAction {
        requestsInFlight = max(0, requestsInFlight - 1)
        guard requestsInFlight == 0, !closing else { return .none }
        if closeAfterResponse {
            closing = true
            armed = nil
            return .close
        }
        guard !readingBody, case .arm(let deadline) = awaitNextRequest() else { return .none }
        return .arm(deadline)
    }

    mutating func deadlinePassed(_ deadline: Deadline) -> CloseAction {
        guard armed == deadline else { return .none }
        armed = nil
        closing = true
        return headsReceived == 0 ? .closeQuietly : .close
    }

    /// The decoder refused what it read; `tooLarge` when the head broke the size or field-count limit.
    mutating func parseError(tooLarge: Bool) -> ErrorAction {
        if readingBody { return .forward }
        guard !closing else { return .ignore }
        if requestsInFlight > 0 {
            // Pipelined behind a request still being answered: let that answer go out, then close.
            closeAfterResponse = true
            return .ignore
        }
        closing = true
        armed = .linger
        return .answer(status: tooLarge ? 431 : 400)
    }

    /// Any other error (the decoder's complaints about bytes after its first error, I/O errors).
    mutating func otherError() -> ErrorAction {
        closing && !readingBody ? .ignore : .forward
    }

    /// The client closed its side: a refused client that has finished sending is let go at once.
    mutating func inputClosed() -> EventAction {
        guard closing else { return .forward }
        armed = nil
        return .close(headsReceived == 0 ? .closeQuietly : .close)
    }

    /// Graceful shutdown: close a connection that has not delivered a request; after that, Hummingbird's
    /// handler closes between requests.
    mutating func quiesce() -> EventAction {
        if closing {
            armed = nil
            return .close(headsReceived == 0 ? .closeQuietly : .close)
        }
        guard headsReceived == 0 else { return .forward }
        closing = true
        armed = nil
        return .close(.closeQuietly)
    }

    private mutating func awaitNextRequest() -> TimerAction {
        armed = nextRequestStarted ? .head : .idle
        return .arm(armed!)
    }
}
