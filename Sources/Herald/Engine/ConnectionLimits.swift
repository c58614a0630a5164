import Foundation

/// How long the HTTP server waits for each part of a request, how large a request head may be, and how
/// many connections it holds open, so that a slow or hostile client cannot keep a socket (and a file
/// descriptor) for ever, and a flood of them cannot starve everyone else.
///
/// A request head must arrive whole within ``headTimeoutSeconds`` (counted from the accept for a
/// connection's first request, from the first byte of the next one on a kept-alive connection), its body
/// within ``bodyTimeoutSeconds`` of the head, and a kept-alive connection with no request in flight is
/// closed after ``idleTimeoutSeconds``. A response being written has no deadline, so a live inbox stream
/// (SSE) stays open, and a WebSocket leaves these rules once upgraded.
///
/// Each is a `server.` key of `herald.yml` and a `HERALD_SERVER_*` variable (rows of ``ConfigurationKey/all``;
/// the older names, `HERALD_MAX_CONNECTIONS` …, still work):
///
/// ```yaml
/// server:
///   max_connections: 5000       # default: the descriptor limit less a reserve, at most 10,000
///   head_timeout_seconds: 10
///   body_timeout_seconds: 60
///   idle_timeout_seconds: 75
///   max_head_bytes: 65536       # request line and headers together; larger gets 431
///   max_header_count: 100       # more header fields get 431
/// ```
public struct ConnectionLimits: Sendable, Hashable {
    /// Open connections at most; beyond it a new connection is closed as soon as it is accepted. Nil: see
    /// ``defaultMaxOpen(fileDescriptorLimit:)``.
    public var maxOpen: Int?
    public var headTimeoutSeconds = 10.0
    public var bodyTimeoutSeconds = 60.0
    /// Longer than the 60 s idle timeout of common load balancers, so the balancer, not Herald, closes a
    /// pooled connection and never sends a request on one Herald is closing.
    public var idleTimeoutSeconds = 75.0
    public var maxHeadBytes = 64 * 1024
    public var maxHeaderCount = 100

    public static let maxOpenRange = 1...1_000_000
    /// Finite, positive, at most a day.
    public static let timeoutRule = NumberRule.seconds(0.01...86_400)
    /// Room for a request line and a few headers at least; at most 1 MiB.
    public static let headBytesRange = 1024...(1 << 20)
    public static let headerCountRange = 1...10_000

    public init() {}

    /// The cap when none is configured: the descriptor limit less a reserve for the database, outbound
    /// connections and files (an eighth, at least 128), at most 10,000 and at least 1.
    public static func defaultMaxOpen(fileDescriptorLimit: Int) -> Int {
        min(10_000, max(1, fileDescriptorLimit - max(128, fileDescriptorLimit / 8)))
    }
}
