import AsyncHTTPClient
import Foundation
import Herald
import NIOCore

/// scripts/webhook_receiver.py as a child process on 127.0.0.1: every delivery is checked with the
/// official `standardwebhooks` library and recorded as one line of `deliveries.jsonl`; each path
/// answers as the test sets it (200 by default). Stopped by `stop()` or when the object goes away.
final class WebhookReceiver: @unchecked Sendable {
    /// One recorded delivery.
    struct Delivery: Decodable, Sendable {
        var seq: Int
        var path: String
        var webhookID: String?
        var webhookTimestamp: String?
        /// The `webhook-signature` header as received.
        var signature: String?
        /// How many `v1,` signatures the request carried.
        var signatures: Int
        var contentType: String?
        var body: String
        /// What the receiver answered.
        var status: Int
        var verified: Bool
        /// Indexes of the receiver's secrets that verify it.
        var verifiedBy: [Int]
        var error: String?
        var receivedAt: Double

        enum CodingKeys: String, CodingKey {
            case seq, path, signature, signatures, body, status, verified, error
            case webhookID = "webhook_id"
            case webhookTimestamp = "webhook_timestamp"
            case contentType = "content_type"
            case verifiedBy = "verified_by"
            case receivedAt = "received_at"
        }

        var json: JSONValue? { try? JSONValue.parse(body) }
        var delivered: Bool { (200..<300).contains(status) }
    }

    struct Verification: Decodable, Sendable {
        var verified: Bool
        var verifiedBy: [Int]
        var error: String?

        enum CodingKeys: String, CodingKey {
            case verified, error
            case verifiedBy = "verified_by"
        }
    }

    let port: Int
    let directory: URL
    let record: URL
    private let process: ChildProcess

    private init(port: Int, directory: URL, record: URL, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.record = record
        self.process = process
    }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/webhook_receiver.py") }

    /// Starts the receiver on a free loopback port, verifying with `secrets`, and waits (up to `timeout` seconds) until it listens.
    static func start(secrets: [String] = [], timeout: Double = 30) async throws -> WebhookReceiver {
        let directory = TestEngine.temporaryDirectory()
        let record = directory.appendingPathComponent("deliveries.jsonl")
        let arguments = [script.path, "--host", "127.0.0.1", "--port", "0", "--record", record.path] + secrets.flatMap { ["--secret", $0] }
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("receiver.out"), stderr: directory.appendingPathComponent("receiver.err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                return WebhookReceiver(port: port, directory: directory, record: record, process: process)
            }
            guard process.isRunning else {
                throw SMTPHarnessError("webhook_receiver.py exited with status \(process.terminationStatus):\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("webhook_receiver.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// How deliveries to `path` are answered from now on.
    func answer(_ path: String, status: Int, delay: Double = 0, body: String? = nil) async throws {
        var config: [String: JSONValue] = ["path": .string(path), "status": .number(Double(status)), "delay": .number(delay)]
        if let body { config["body"] = .string(body) }
        _ = try await control("/_control/path", .object(config))
    }

    func setSecrets(_ secrets: [String]) async throws {
        _ = try await control("/_control/secrets", ["secrets": .array(secrets.map(JSONValue.string))])
    }

    /// Verifies a body and headers with the library, recording nothing.
    func verify(body: String, headers: [String: String]) async throws -> Verification {
        let answer = try await control("/_verify", ["body": .string(body), "headers": .object(headers.mapValues(JSONValue.string))])
        return try JSONDecoder().decode(Verification.self, from: Data(answer.utf8))
    }

    private func control(_ path: String, _ body: JSONValue) async throws -> String {
        var request = HTTPClientRequest(url: url(path))
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else { throw SMTPHarnessError("\(path) answered \(response.status): \(text)") }
        return text
    }

    /// Every delivery so far, in the order received (complete lines only).
    func deliveries() throws -> [Delivery] {
        guard let data = try? Data(contentsOf: record) else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().compactMap { line in
            line.isEmpty ? nil : try decoder.decode(Delivery.self, from: Data(line))
        }
    }

    func deliveries(to path: String) throws -> [Delivery] { try deliveries().filter { $0.path == path } }

    /// Waits until `condition` holds for the deliveries so far, up to `timeout` seconds; returns whether it did.
    func wait(timeout: Double = 20, until condition: @escaping ([Delivery]) -> Bool) async throws -> Bool {
        try await SMTPHarness.eventually(timeout: timeout, interval: 0.05) { condition(try deliveries()) }
    }

    func stop() { process.stop() }

    deinit { process.stop() }
}
