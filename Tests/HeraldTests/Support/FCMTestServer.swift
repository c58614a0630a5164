import AsyncHTTPClient
import Crypto
import Foundation
import Herald
import NIOCore
import _CryptoExtras

/// scripts/fcm_test_server.py as a child process: a fake FCM HTTP v1 API and Google OAuth token endpoint on one
/// loopback port. It verifies each RS256 assertion against the public half of a service-account key made for it,
/// issues access tokens, accepts sends only with a token it issued that has not expired, checks the message's
/// shape, and answers with Google's statuses and error bodies. Every exchange and send is read back with
/// ``records()``; ``counters()`` tells exchanges and sends.
///
/// Stopped by `stop()` or, at the latest, when the object goes away. Every wait is bounded.
final class FCMTestServer: @unchecked Sendable {
    /// One exchange (`kind` `token`) or send (`send`) as the server saw it, and what it answered.
    struct Received: Decodable, Sendable {
        var seq: Int
        var kind: String
        var path: String
        /// Lower-case names.
        var headers: [String: String]
        var body: String
        var status: Int
        var verified: Bool
        var problems: [String]
        /// The registration token of a send.
        var token: String?
        /// The access token a send used, or an exchange issued.
        var accessToken: String?
        /// An exchange's assertion claims.
        var claims: JSONValue?

        var json: JSONValue? { try? JSONValue.parse(body) }

        enum CodingKeys: String, CodingKey {
            case seq, kind, path, headers, body, status, verified, problems, token, claims
            case accessToken = "access_token"
        }
    }

    struct Counters: Decodable, Sendable {
        var exchanges: Int
        var refusedExchanges: Int
        var sends: Int
        var accepted: Int
        var unauthenticated: Int
        var verified: Int
        var statuses: [String: Int]

        enum CodingKeys: String, CodingKey {
            case exchanges, sends, accepted, unauthenticated, verified, statuses
            case refusedExchanges = "refused_exchanges"
        }
    }

    let port: Int
    let log: URL
    /// The service account whose assertions the server accepts; its `token_uri` is this server's `/token`.
    let account: FCMServiceAccount
    private let process: ChildProcess

    private init(port: Int, log: URL, account: FCMServiceAccount, process: ChildProcess) {
        self.port = port
        self.log = log
        self.account = account
        self.process = process
    }

    deinit { process.stop(grace: 1) }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/fcm_test_server.py") }
    static let projectID = "herald-test-1234"
    static let clientEmail = "firebase-adminsdk-x1y2z@herald-test-1234.iam.gserviceaccount.com"

    /// One 2048-bit key for every server of the run: making one takes a while on a slow machine.
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    /// Starts the server on a free loopback port and waits (up to `timeout` seconds) until it listens.
    static func start(expiresIn: Int = 3599, timeout: Double = 30) async throws -> FCMTestServer {
        let directory = TestEngine.temporaryDirectory()
        let publicKey = directory.appendingPathComponent("fcm-public.pem")
        try key.publicKey.pemRepresentation.write(to: publicKey, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("requests.jsonl")
        let arguments = [
            script.path, "--port", "0", "--public-key", publicKey.path, "--client-email", clientEmail, "--project-id", projectID,
            "--key-id", "0123456789abcdef0123456789abcdef01234567", "--expires-in", String(expiresIn), "--log", log.path,
        ]
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("server.out"), stderr: directory.appendingPathComponent("server.err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                // The server takes http://127.0.0.1:<port>/token as the assertions' audience.
                let account = FCMServiceAccount(
                    projectID: projectID, privateKeyID: "0123456789abcdef0123456789abcdef01234567", privateKeyPEM: key.pkcs8PEMRepresentation,
                    clientEmail: clientEmail, tokenURI: "http://127.0.0.1:\(port)/token")
                return FCMTestServer(port: port, log: log, account: account, process: process)
            }
            guard process.isRunning else {
                throw SMTPHarnessError("fcm_test_server.py exited before it was ready:\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("fcm_test_server.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    func stop() { process.stop(grace: 2) }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// A client that may reach loopback.
    static func http() -> OutboundHTTPClient {
        OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true), timeoutSeconds: 10)
    }

    /// A sender for this server's account with its own token provider.
    func sender(now: @escaping @Sendable () -> Date = { Date() }) throws -> FCMSender {
        let http = Self.http()
        return FCMSender(tokens: try FCMTokenProvider(account: account, http: http, now: now), http: http, baseURL: baseURL)
    }

    /// A registration token of the shape FCM hands out.
    static func registrationToken() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        return String((0..<22).map { _ in alphabet.randomElement()! }) + ":APA91b" + String((0..<134).map { _ in alphabet.randomElement()! })
    }

    // MARK: What it received

    func records() throws -> [Received] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Received.self, from: Data($0.utf8)) }
    }

    func counters() async throws -> Counters {
        var request = HTTPClientRequest(url: baseURL.absoluteString + "/_control/counters")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode(Counters.self, from: Data(body.readableBytesView))
    }

    // MARK: Control

    /// The next `times` sends (-1: all) to `token` get FCM's `error` (`UNREGISTERED`, `QUOTA_EXCEEDED`,
    /// `UNAVAILABLE`, `INTERNAL`, `INVALID_ARGUMENT`, `SENDER_ID_MISMATCH`, `THIRD_PARTY_AUTH_ERROR`), with
    /// `Retry-After` when given.
    func fail(token: String, error: String, retryAfter: Double? = nil, times: Int = -1) async throws {
        var body: [String: JSONValue] = ["token": .string(token), "error": .string(error), "times": .number(Double(times))]
        if let retryAfter { body["retry_after"] = .number(retryAfter) }
        try await control("/_control/fail", body: .object(body))
    }

    /// Every access token issued so far is expired from now on.
    func expireAccessTokens() async throws { try await control("/_control/expire-tokens", body: [:]) }

    private func control(_ path: String, body: JSONValue) async throws {
        var request = HTTPClientRequest(url: baseURL.absoluteString + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw SMTPHarnessError("control \(path) answered \(response.status)") }
        _ = try await response.body.collect(upTo: 1 << 16)
    }
}
