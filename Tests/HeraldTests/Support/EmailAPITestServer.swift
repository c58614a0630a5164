import AsyncHTTPClient
import Foundation
import Herald
import NIOCore

/// scripts/email_api_test_server.py as a child process: Amazon SES v2 (checking Signature V4 with botocore),
/// SendGrid, Postmark and Mailgun on one loopback port, each checking requests and answering as its service does.
/// Every accepted message is read back with ``messages(provider:)``.
final class EmailAPITestServer: @unchecked Sendable {
    /// One accepted message as the server logged it.
    struct Accepted: Decodable, Sendable {
        var seq: Int
        var provider: String
        var recipients: [String]
        /// The MIME text exactly as received (SES, Mailgun).
        var raw_mime: String?
        /// What the provider echoes on its events: SES tags, SendGrid custom_args, Postmark Metadata, Mailgun v: variables.
        var custom: [String: String]?
    }

    static let sesAccessKey = "AKIDHERALDTEST"
    static let sesSecretKey = "herald/test/secret/key"
    static let sesRegion = "eu-west-1"
    static let sendGridKey = "SG.herald-test"
    static let postmarkToken = "postmark-herald-test"
    static let mailgunKey = "key-herald-test"
    static let mailgunDomain = "mg.herald.test"

    let port: Int
    let log: URL
    private let process: ChildProcess

    private init(port: Int, log: URL, process: ChildProcess) {
        self.port = port
        self.log = log
        self.process = process
    }

    deinit { process.stop(grace: 1) }

    static func start(timeout: Double = 30) async throws -> EmailAPITestServer {
        let directory = TestEngine.temporaryDirectory()
        let log = directory.appendingPathComponent("accepted.jsonl")
        let arguments = [
            TestEngine.repositoryRoot.appendingPathComponent("scripts/email_api_test_server.py").path, "--port", "0", "--log", log.path,
            "--ses-access-key", sesAccessKey, "--ses-secret-key", sesSecretKey, "--ses-region", sesRegion, "--sendgrid-key", sendGridKey,
            "--postmark-token", postmarkToken, "--mailgun-key", mailgunKey, "--mailgun-domain", mailgunDomain,
        ]
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("server.out"), stderr: directory.appendingPathComponent("server.err"))
        let port = try await process.readyPort(name: "email_api_test_server.py", timeout: timeout)
        return EmailAPITestServer(port: port, log: log, process: process)
    }

    func stop() { process.stop(grace: 2) }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A link of a failover chain that sends to this server as `provider`.
    func link(_ provider: String, timeoutSeconds: Double = 10) -> EmailTransportConfiguration {
        switch provider {
        case "ses":
            .ses(SESConfiguration(region: Self.sesRegion, accessKeyID: Self.sesAccessKey, secretAccessKey: Self.sesSecretKey, connection: EmailProviderConnection(endpoint: baseURL, timeoutSeconds: timeoutSeconds)))
        case "sendgrid": .sendgrid(SendGridConfiguration(apiKey: Self.sendGridKey, connection: EmailProviderConnection(endpoint: baseURL, timeoutSeconds: timeoutSeconds)))
        case "postmark": .postmark(PostmarkConfiguration(serverToken: Self.postmarkToken, connection: EmailProviderConnection(endpoint: baseURL, timeoutSeconds: timeoutSeconds)))
        default: .mailgun(MailgunConfiguration(apiKey: Self.mailgunKey, domain: Self.mailgunDomain, connection: EmailProviderConnection(endpoint: baseURL, timeoutSeconds: timeoutSeconds)))
        }
    }

    /// The path prefix a provider's requests have, for failure injection.
    static func path(_ provider: String) -> String {
        switch provider {
        case "ses": "/v2/email/outbound-emails"
        case "sendgrid": "/v3/mail/send"
        case "postmark": "/email"
        default: "/v3/\(mailgunDomain)/messages.mime"
        }
    }

    func messages(provider: String? = nil) throws -> [Accepted] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        // Only whole lines: the server may be writing the last one as it is read.
        let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
        return try complete.split(separator: "\n").map { try JSONDecoder().decode(Accepted.self, from: Data($0.utf8)) }
            .filter { provider == nil || $0.provider == provider }
    }

    /// Waits until `count` messages (of `provider`) were accepted; false when they were not within `timeout`.
    func waitForMessages(_ count: Int, provider: String? = nil, timeout: Double) async throws -> Bool {
        try await SMTPHarness.eventually(timeout: timeout) { try self.messages(provider: provider).count >= count }
    }

    /// The next `times` requests (-1: all) to `prefix` get `status` with the provider's own error body.
    func fail(prefix: String, status: Int, times: Int = -1) async throws {
        try await control("/_control/fail", body: ["prefix": .string(prefix), "status": .number(Double(status)), "times": .number(Double(times))])
    }

    func clearFailures() async throws { try await control("/_control/clear", body: [:]) }

    private func control(_ path: String, body: JSONValue) async throws {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw SMTPHarnessError("control \(path) answered \(response.status)") }
        _ = try await response.body.collect(upTo: 1 << 16)
    }
}

extension ChildProcess {
    /// Waits (at most `timeout` seconds) for the `READY <port>` line a test server prints once it listens.
    func readyPort(name: String, timeout: Double) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) { return port }
            guard isRunning else { throw SMTPHarnessError("\(name) exited before it was ready:\n\(errorOutput().suffix(3000))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        stop()
        throw SMTPHarnessError("\(name) did not print READY within \(timeout) s:\n\(errorOutput().suffix(3000))")
    }
}
