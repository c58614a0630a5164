import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP client behind webhooks, chat and SMS: one connection pool for the process, no redirects
/// followed, a timeout on every request, and the ``DestinationPolicy`` checked before each one.
public struct OutboundHTTPClient: Sendable {
    /// Process-wide, never shut down (an `HTTPClient` must be shut down before it is released; a
    /// static one never is). Redirects are refused so a public URL cannot bounce a request inward.
    private static let shared = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16),
            decompression: .disabled))

    public var policy: DestinationPolicy
    /// Seconds before a request that has not finished is abandoned (and counted as the provider's failure).
    public var timeoutSeconds: Double
    public var userAgent = "Herald"

    public init(policy: DestinationPolicy = DestinationPolicy(), timeoutSeconds: Double = 10) {
        self.policy = policy
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends one request; never throws. A refused destination, a connection failure and a timeout are
    /// each their own answer, so the caller can tell its provider's fault from its own.
    public func send(
        _ method: HTTPMethod = .POST, to url: URL, headers: [(String, String)] = [], body: [UInt8]? = nil, timeoutSeconds: Double? = nil
    ) async -> OutboundHTTPResult {
        if let problem = await policy.problem(for: url) { return .refused(problem) }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let timeout = timeoutSeconds ?? self.timeoutSeconds
        do {
            let response = try await Self.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            // Only the start of an answer is kept, for the attempt log; the rest is drained and dropped.
            var kept = ByteBuffer()
            for try await var part in response.body {
                let room = OutboundHTTPAnswer.keptBodyBytes - kept.readableBytes
                if room > 0, let slice = part.readSlice(length: min(room, part.readableBytes)) {
                    var slice = slice
                    kept.writeBuffer(&slice)
                }
            }
            let headers = response.headers.map { ($0.name, $0.value) }
            return .answered(OutboundHTTPAnswer(status: Int(response.status.code), headers: headers, body: String(buffer: kept)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failed("no answer within \(Self.seconds(timeout)) s")
        } catch {
            return .failed("\(error)")
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// What came of one outbound request.
public enum OutboundHTTPResult: Sendable {
    /// The server answered (any status).
    case answered(OutboundHTTPAnswer)
    /// No answer: connection refused or reset, TLS failure, timeout.
    case failed(String)
    /// Not sent: the destination policy refused the address.
    case refused(String)
}

public struct OutboundHTTPAnswer: Sendable {
    /// How much of a body is kept for the attempt log.
    public static let keptBodyBytes = 2048

    public var status: Int
    public var headers: [(String, String)]
    /// The start of the body (up to ``keptBodyBytes``).
    public var body: String

    public init(status: Int, headers: [(String, String)], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    /// `Retry-After` in seconds, when the server gave one as a number.
    public var retryAfterSeconds: Double? {
        header("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// "HTTP 503: <first 200 characters of the body>", for attempt details.
    public var summary: String {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(text.prefix(200))"
    }
}
