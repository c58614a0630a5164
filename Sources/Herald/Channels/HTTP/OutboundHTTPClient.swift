import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The HTTP client behind webhooks, chat, SMS and push: one connection pool for the process, no redirects
/// followed, a timeout on every request, and the ``DestinationPolicy`` checked before each one (for `http`, the
/// request then goes to the address the policy vetted).
public struct OutboundHTTPClient: Sendable {
    /// Process-wide, never shut down (an `HTTPClient` must be shut down before it is released; a
    /// static one never is). Redirects are refused so a public URL cannot bounce a request inward.
    private static let shared = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls: nil))

    /// Clients that also trust extra certificates, one per distinct PEM text, made on first use and, like
    /// ``shared``, never shut down. A TLS configuration belongs to an `HTTPClient`, not to a request, so
    /// trusting a private CA (a test server's self-signed certificate, an in-house push relay) needs a client
    /// of its own; there are as many as distinct PEMs configured, which is a handful.
    private static let trustingClients = Mutex<[String: HTTPClient]>([:])

    /// HTTP/1.1 connections the client keeps per host; ``HTTPPriorityGate`` admits as many requests at once.
    static let connectionsPerHost = 16

    /// The one configuration every client shares; `tls` only adds trust roots.
    private static func configuration(tls: TLSConfiguration?) -> HTTPClient.Configuration {
        HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5)),
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost),
            decompression: .disabled)
    }

    /// The process-wide client for `trustedCertificatesPEM`: ``shared`` when nil, else one that trusts the
    /// system roots and those certificates. Throws when the PEM holds no readable certificate.
    static func client(trusting pem: String?) throws -> HTTPClient {
        guard let pem else { return shared }
        return try trustingClients.withLock { clients in
            if let client = clients[pem] { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(tls: tls))
            clients[pem] = client
            return client
        }
    }

    public var policy: DestinationPolicy
    /// Seconds before a request that has not finished is abandoned (and counted as the provider's failure).
    public var timeoutSeconds: Double
    public var userAgent = "Herald"
    /// PEM certificates trusted for `https` besides the system's roots: for a provider behind a private CA,
    /// and for tests against a server with a self-signed certificate. Nil (the default) sends through the
    /// shared client exactly as before.
    public var trustedCertificatesPEM: String? = nil

    public init(policy: DestinationPolicy = DestinationPolicy(), timeoutSeconds: Double = 10) {
        self.policy = policy
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends one request; never throws. A refused destination, a connection failure and a timeout are
    /// each their own answer, so the caller can tell its provider's fault from its own. Only the first
    /// `keepingBodyBytes` of the answer's body are kept (a certificate fetched for a signature needs more than
    /// the attempt log's share). `priority` is the message's: it orders the requests waiting for one of the host's
    /// connections (``HTTPPriorityGate``).
    public func send(
        _ method: HTTPMethod = .POST, to url: URL, headers: [(String, String)] = [], body: [UInt8]? = nil, timeoutSeconds: Double? = nil,
        keepingBodyBytes: Int = OutboundHTTPAnswer.keptBodyBytes, priority: Priority = .medium
    ) async -> OutboundHTTPResult {
        if let problem = DestinationPolicy.syntaxProblem(url.absoluteString) { return .refused(problem) }
        let target: Target
        switch await Self.target(for: url, policy: policy) {
        case .success(let vetted): target = vetted
        case .failure(let refusal): return .refused(refusal.reason)
        }
        var request = HTTPClientRequest(url: target.url)
        request.method = method
        if let host = target.hostHeader { request.headers.add(name: "Host", value: host) }
        request.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let timeout = timeoutSeconds ?? self.timeoutSeconds
        let client: HTTPClient
        do {
            client = try Self.client(trusting: trustedCertificatesPEM)
        } catch {
            return .failed("cannot read the trusted certificates: \(error)")
        }
        // A slot of the host's, most urgent first: a critical request never queues for a connection behind bulk.
        let host = "\(url.scheme?.lowercased() ?? "")://\(url.displayHost)"
        do {
            return try await HTTPPriorityGate.shared.withSlot(host: host, priority: priority) {
                let response = try await client.execute(request, timeout: Seconds(clamping: timeout).timeAmount)
                if response.version.major >= 2 { HTTPPriorityGate.shared.hostMultiplexes(host) }
                // Only the start of an answer is kept, for the attempt log; the rest is drained and dropped.
                var kept = ByteBuffer()
                for try await var part in response.body {
                    let room = keepingBodyBytes - kept.readableBytes
                    if room > 0, let slice = part.readSlice(length: min(room, part.readableBytes)) {
                        var slice = slice
                        kept.writeBuffer(&slice)
                    }
                }
                let headers = response.headers.map { ($0.name, $0.value) }
                return .answered(OutboundHTTPAnswer(status: Int(response.status.code), headers: headers, body: String(buffer: kept)))
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failed("no answer within \(Self.seconds(timeout)) s")
        } catch {
            return .failed("\(error)")
        }
    }

    /// Where a request actually goes: for `http`, the vetted address itself (with the original `Host` header), so a
    /// DNS answer that changes after the check cannot send it elsewhere; for `https` the URL as it is, because the
    /// certificate is checked against the name and this client cannot be told which address to use for one request
    /// (async-http-client has no per-request resolver), so it resolves once more, just after the check.
    struct Target {
        var url: String
        var hostHeader: String?
    }

    static func target(for url: URL, policy: DestinationPolicy) async -> Result<Target, DestinationRefusal> {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false), let host = components.host else {
            return .failure(DestinationRefusal("must name a host"))
        }
        let addresses: [IPAddress]?
        do {
            addresses = try await policy.vet(host: host)
        } catch let error as IPAddress.ResolutionError {
            return .failure(DestinationRefusal("cannot resolve \(host): \(error)"))
        } catch {
            return .failure(DestinationRefusal("\(error)"))
        }
        guard let address = addresses?.first, components.scheme?.lowercased() == "http", IPAddress(numericHost: host) == nil else {
            return .success(Target(url: url.absoluteString, hostHeader: nil))
        }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        components.host = address.isIPv4 ? address.description : "[\(address.description)]"
        guard let pinned = components.string else { return .success(Target(url: url.absoluteString, hostHeader: nil)) }
        return .success(Target(url: pinned, hostHeader: hostHeader))
    }

    /// `30`, `0.5`: a number of seconds for a message. Takes any Double (a server's `Retry-After: 1e300`).
    static func seconds(_ value: Double) -> String {
        NumberRule.format(value)
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
