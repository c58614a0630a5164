import Foundation
import Herald

/// scripts/email_webhook_events.py: the bounce and complaint webhooks of Amazon SES (through SNS), SendGrid,
/// Postmark and Mailgun in their real formats, signed as the providers sign them with Python's `cryptography`
/// and `hmac`, and a stand-in SNS on loopback that serves the signing certificate and takes subscription
/// confirmations.
enum EmailWebhookEvents {
    /// The keys the script signs with, as Herald's configurations take them.
    struct Keys: Decodable, Sendable {
        /// The self-signed certificate standing in for SNS's signing certificate.
        var snsCertificatePEM: String
        /// SendGrid's verification key as its settings page shows it.
        var sendGridVerificationKey: String

        enum CodingKeys: String, CodingKey {
            case snsCertificatePEM = "sns_certificate_pem"
            case sendGridVerificationKey = "sendgrid_verification_key"
        }
    }

    /// One request as the provider would send it.
    struct Signed: Decodable, Sendable {
        var headers: [String: String]
        var body: String
    }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/email_webhook_events.py") }
    /// One key folder per test run, made once: every payload of the run is signed with the same keys.
    static let directory = TestEngine.runDirectory.appendingPathComponent("email-webhook-keys")
    private static let made = Task { () throws -> Keys in
        let result = try await run(["keys", directory.path])
        return try JSONDecoder().decode(Keys.self, from: result)
    }

    static func keys() async throws -> Keys { try await made.value }

    /// Signs each spec (see the script's help for the fields of each provider).
    static func sign(_ specs: [JSONValue]) async throws -> [Signed] {
        _ = try await keys()
        let file = TestEngine.temporaryDirectory().appendingPathComponent("specs.json")
        try Data(JSONValue.array(specs).jsonText().utf8).write(to: file)
        let signed = try JSONDecoder().decode([Signed].self, from: try await run(["sign", directory.path, file.path]))
        guard signed.count == specs.count else { throw SMTPHarnessError("email_webhook_events.py signed \(signed.count) of \(specs.count) specs") }
        return signed
    }

    static func sign(_ spec: JSONValue) async throws -> Signed {
        try await sign([spec])[0]
    }

    private static func run(_ arguments: [String]) async throws -> Data {
        let result = try await ChildProcess.run(
            executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [SMTPHarness.python, script.path] + arguments, timeout: 60)
        guard result.status == 0 else {
            throw SMTPHarnessError(
                "email_webhook_events.py \(arguments.first ?? "") exited with \(result.status): \(result.errorOutput.suffix(3000))")
        }
        return result.output
    }

    /// The script's `serve` mode as a child process: Amazon SNS's certificate URL and subscription confirmation
    /// on one loopback port. Stopped by `stop()` or when it goes away.
    final class SNSServer: @unchecked Sendable {
        let port: Int
        let log: URL
        private let process: ChildProcess

        private init(port: Int, log: URL, process: ChildProcess) {
            self.port = port
            self.log = log
            self.process = process
        }

        deinit { process.stop(grace: 1) }

        static func start(timeout: Double = 30) async throws -> SNSServer {
            _ = try await EmailWebhookEvents.keys()
            let folder = TestEngine.temporaryDirectory()
            let log = folder.appendingPathComponent("confirmations.jsonl")
            let process = try ChildProcess(
                python: [script.path, "serve", directory.path, "--port", "0", "--log", log.path],
                stdout: folder.appendingPathComponent("server.out"), stderr: folder.appendingPathComponent("server.err"))
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                    return SNSServer(port: port, log: log, process: process)
                }
                guard process.isRunning else {
                    throw SMTPHarnessError("email_webhook_events.py serve exited:\n\(process.errorOutput().suffix(3000))")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            process.stop()
            throw SMTPHarnessError("email_webhook_events.py serve did not print READY within \(timeout) s")
        }

        /// The URL prefix a test configuration trusts (`email.sns_certificate_url_prefix`).
        var prefix: String { "http://127.0.0.1:\(port)/" }
        var certificateURL: String { prefix + "SimpleNotificationService-test.pem" }
        var subscribeURL: String { prefix + "confirm" }

        /// The query of each confirmation the server took, oldest first.
        func confirmations() throws -> [[String: String]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return try text.split(separator: "\n").map { line in
                guard case .object(let fields)? = try JSONValue.parse(String(line))["query"] else { return [:] }
                return fields.compactMapValues(\.stringValue)
            }
        }

        func stop() { process.stop(grace: 1) }
    }
}
