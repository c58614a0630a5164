import AsyncHTTPClient
import Foundation
import Herald
import NIOCore

/// scripts/webpush_receiver.py as a child process on 127.0.0.1: a push service that hands out browser
/// subscriptions (each with its own P-256 key pair and auth secret), decrypts every push with `http_ece` and
/// checks its VAPID header with `py_vapid`, answering 201 as a push service does, or as the test sets a
/// subscription to answer (410, 429 with Retry-After…). Stopped by `stop()` or when the object goes away.
final class WebPushReceiver: @unchecked Sendable {
    /// A subscription as the receiver made it, in the browser's `toJSON()` shape plus its id.
    struct Subscription: Decodable, Sendable {
        struct Keys: Decodable, Sendable {
            var p256dh: String
            var auth: String
        }

        var id: String
        var endpoint: String
        var keys: Keys

        var webPush: WebPushSubscription { WebPushSubscription(endpoint: endpoint, p256dh: keys.p256dh, auth: keys.auth) }
    }

    /// One push as the receiver saw it.
    struct Push: Decodable, Sendable {
        var seq: Int
        var subscription: String
        var status: Int
        var verified: Bool
        var vapidError: String?
        /// The JWT of the `Authorization` header, and its `k=`.
        var jwt: String?
        var k: String?
        var claims: [String: JSONValue]?
        /// The decrypted body: its JSON when it parses, else its text; nil when it did not decrypt.
        var payload: JSONValue?
        var decryptError: String?
        var contentEncoding: String?
        var contentType: String?
        var ttl: Int?
        var urgency: String?
        var topic: String?
        var bodyBytes: Int

        enum CodingKeys: String, CodingKey {
            case seq, subscription, status, verified, jwt, k, claims, payload, ttl, urgency, topic
            case vapidError = "vapid_error"
            case decryptError = "decrypt_error"
            case contentEncoding = "content_encoding"
            case contentType = "content_type"
            case bodyBytes = "body_bytes"
        }
    }

    let port: Int
    private let process: ChildProcess

    private init(port: Int, process: ChildProcess) {
        self.port = port
        self.process = process
    }

    deinit { process.stop(grace: 1) }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/webpush_receiver.py") }

    /// Starts the receiver on a free loopback port and waits (up to `timeout` seconds) until it listens.
    static func start(timeout: Double = 30) async throws -> WebPushReceiver {
        let directory = TestEngine.temporaryDirectory()
        let arguments = [script.path, "--host", "127.0.0.1", "--port", "0", "--record", directory.appendingPathComponent("pushes.jsonl").path]
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("receiver.out"), stderr: directory.appendingPathComponent("receiver.err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                return WebPushReceiver(port: port, process: process)
            }
            guard process.isRunning else {
                throw SMTPHarnessError("webpush_receiver.py exited with status \(process.terminationStatus):\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("webpush_receiver.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    func stop() { process.stop(grace: 2) }

    /// `http://127.0.0.1:<port>`: the `aud` every token for this receiver must carry.
    var origin: String { "http://127.0.0.1:\(port)" }

    /// `count` new browser subscriptions; with `applicationServerKey`, pushes signed with any other key are refused (403).
    func subscriptions(_ count: Int, applicationServerKey: String? = nil) async throws -> [Subscription] {
        var body: [String: JSONValue] = ["count": .number(Double(count))]
        if let applicationServerKey { body["application_server_key"] = .string(applicationServerKey) }
        return try JSONDecoder().decode([Subscription].self, from: try await request("/_control/subscriptions", .object(body)))
    }

    /// From now on, pushes to `ids` are answered with `status` (and `Retry-After: retryAfter` when given).
    func answer(_ ids: [String], status: Int, retryAfter: String? = nil) async throws {
        var body: [String: JSONValue] = ["ids": .array(ids.map(JSONValue.string)), "status": .number(Double(status))]
        if let retryAfter { body["retry_after"] = .string(retryAfter) }
        _ = try await request("/_control/answer", .object(body))
    }

    /// Every push so far, in the order received.
    func pushes() async throws -> [Push] {
        try JSONDecoder().decode([Push].self, from: try await request("/_control/record", nil))
    }

    /// POST with a JSON body, or GET without one.
    private func request(_ path: String, _ body: JSONValue?) async throws -> Data {
        var request = HTTPClientRequest(url: origin + path)
        request.method = body == nil ? .GET : .POST
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText()))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        guard response.status == .ok else { throw SMTPHarnessError("\(path) answered \(response.status): \(String(decoding: data, as: UTF8.self))") }
        return data
    }
}
