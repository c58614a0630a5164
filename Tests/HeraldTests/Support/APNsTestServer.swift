import AsyncHTTPClient
import Crypto
import Foundation
import Herald
import NIOCore

/// scripts/apns_test_server.py as a child process: a fake APNs that speaks only HTTP/2 over TLS (a fresh
/// self-signed certificate for localhost and 127.0.0.1), verifies every request's ES256 provider token against the
/// public half of a signing key made for it, checks path, headers and payload as Apple does, and answers with
/// Apple's statuses and reasons. Every request is read back with ``requests()``; ``counters()`` tells connections
/// and distinct provider tokens.
///
/// Stopped by `stop()` or, at the latest, when the object goes away. Every wait is bounded.
final class APNsTestServer: @unchecked Sendable {
    /// One request as the server saw it, and what it answered.
    struct Received: Decodable, Sendable {
        var seq: Int
        /// The connection it came on, counted from 1.
        var connection: Int
        var stream: Int
        var method: String?
        var path: String?
        var token: String?
        /// Lower-case names, pseudo-headers (`:path`, `:method`) included.
        var headers: [String: String]
        var body: String
        /// Whether every check passed (JWT, path, headers, payload).
        var verified: Bool
        var problems: [String]
        var jwt: String?
        var status: Int
        var reason: String?

        var json: JSONValue? { try? JSONValue.parse(body) }
    }

    struct Counters: Decodable, Sendable {
        var connections: Int
        var openConnections: Int
        /// Connections that did not negotiate h2 and were closed.
        var refusedConnections: Int
        var requests: Int
        var verified: Int
        var distinctJwts: Int
        var statuses: [String: Int]

        enum CodingKeys: String, CodingKey {
            case connections, requests, verified, statuses
            case openConnections = "open_connections"
            case refusedConnections = "refused_connections"
            case distinctJwts = "distinct_jwts"
        }
    }

    let port: Int
    let controlPort: Int
    let log: URL
    let certificate: TestCertificate
    /// The credentials whose tokens the server accepts (a key made for this server).
    let credentials: APNsCredentials
    private let process: ChildProcess

    private init(port: Int, controlPort: Int, log: URL, certificate: TestCertificate, credentials: APNsCredentials, process: ChildProcess) {
        self.port = port
        self.controlPort = controlPort
        self.log = log
        self.certificate = certificate
        self.credentials = credentials
        self.process = process
    }

    deinit { process.stop(grace: 1) }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/apns_test_server.py") }
    static let topic = "com.example.herald"

    /// Starts the server on free loopback ports with a new signing key and certificate, and waits (up to `timeout`
    /// seconds) until it listens.
    static func start(keyID: String = "ABC123DEFG", teamID: String = "DEF123GHIJ", topics: [String] = [topic], timeout: Double = 30) async throws
        -> APNsTestServer
    {
        let directory = TestEngine.temporaryDirectory()
        let key = P256.Signing.PrivateKey()
        let publicKey = directory.appendingPathComponent("apns-public.pem")
        try key.publicKey.pemRepresentation.write(to: publicKey, atomically: true, encoding: .utf8)
        let credentials = APNsCredentials(keyID: keyID, teamID: teamID, privateKeyPEM: key.pemRepresentation)
        let certificate = try TestCertificate.make(in: directory.appendingPathComponent("tls"))
        let log = directory.appendingPathComponent("requests.jsonl")
        var arguments = [
            script.path, certificate.certPath, certificate.keyPath, "--key-id", keyID, "--team-id", teamID, "--public-key", publicKey.path,
            "--log", log.path,
        ]
        for topic in topics { arguments += ["--topic", topic] }
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("server.out"), stderr: directory.appendingPathComponent("server.err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) {
                let ports = line.split(separator: " ").dropFirst().compactMap { Int($0) }
                guard ports.count == 2 else { throw SMTPHarnessError("apns_test_server.py printed \(line)") }
                return APNsTestServer(
                    port: ports[0], controlPort: ports[1], log: log, certificate: certificate, credentials: credentials, process: process)
            }
            guard process.isRunning else {
                throw SMTPHarnessError("apns_test_server.py exited before it was ready:\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("apns_test_server.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    func stop() { process.stop(grace: 2) }

    var baseURL: URL { URL(string: "https://localhost:\(port)")! }

    /// The certificate to trust (``OutboundHTTPClient/trustedCertificatesPEM``).
    var certificatePEM: String { (try? String(contentsOfFile: certificate.certPath, encoding: .utf8)) ?? "" }

    /// A client that may reach loopback and trusts this server's certificate.
    func http(timeoutSeconds: Double = 10) -> OutboundHTTPClient {
        var http = OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true), timeoutSeconds: timeoutSeconds)
        http.trustedCertificatesPEM = certificatePEM
        return http
    }

    /// A sender signing with this server's key, through ``http(timeoutSeconds:)``.
    func sender(now: @escaping @Sendable () -> Date = { Date() }) throws -> APNsSender {
        APNsSender(tokens: try APNsTokenProvider(credentials: credentials, now: now), http: http(), baseURL: baseURL)
    }

    /// A random 64-hex-digit device token.
    static func deviceToken() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    // MARK: What it received

    /// Every request answered so far, in order.
    func requests() throws -> [Received] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Received.self, from: Data($0.utf8)) }
    }

    func counters() async throws -> Counters {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(controlPort)/counters")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode(Counters.self, from: Data(body.readableBytesView))
    }

    // MARK: Control

    /// The next `times` requests (-1: all) to `token` are answered with `status` and Apple's `reason` (the server
    /// picks the usual one for the status when nil), with `Retry-After` when given.
    func fail(token: String, status: Int, reason: String? = nil, retryAfter: Double? = nil, times: Int = -1) async throws {
        var body: [String: JSONValue] = ["token": .string(token), "status": .number(Double(status)), "times": .number(Double(times))]
        if let reason { body["reason"] = .string(reason) }
        if let retryAfter { body["retry_after"] = .number(retryAfter) }
        try await control("/fail", body: .object(body))
    }

    /// Every provider token seen so far is answered `403 ExpiredProviderToken` from now on; with `always`, every
    /// token, new ones included.
    func expireProviderTokens(always: Bool = false) async throws { try await control("/expire-jwts", body: ["always": .bool(always)]) }

    func clear() async throws { try await control("/clear", body: [:]) }

    private func control(_ path: String, body: JSONValue) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(controlPort)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw SMTPHarnessError("control \(path) answered \(response.status)") }
        _ = try await response.body.collect(upTo: 1 << 16)
    }
}
