import AsyncHTTPClient
import Foundation
import Herald
import NIOCore

/// scripts/provider_test_server.py as a child process: fake Twilio, generic JSON SMS, Slack, Teams and
/// Discord endpoints on one loopback port, each speaking its service's wire format and checking requests
/// the way the service does. Every request it answered is read back with ``requests()``.
///
/// Stopped by `stop()` or, at the latest, when the object goes away. Every wait is bounded.
final class ProviderTestServer: @unchecked Sendable {
    /// One request as the server saw it, and what it answered.
    struct Received: Decodable, Sendable {
        var seq: Int
        var method: String
        var path: String
        var query: String
        /// Lower-case names.
        var headers: [String: String]
        var body: String
        var status: Int?
        /// `twilio`, `json`, `slack`, `teams` or `discord`.
        var provider: String?
        /// Twilio's form fields, as Python's `urllib.parse.parse_qs` decoded them.
        var form: [String: String]?
        /// Segments and encoding as the server counted them on its own (SMS only, accepted messages).
        var segments: Int?
        var encoding: String?

        var json: JSONValue? { try? JSONValue.parse(body) }
    }

    /// A Twilio account the fake accepts.
    struct TwilioAccount: Sendable {
        var sid: String
        var token: String

        static let primary = TwilioAccount(sid: "AC" + String(repeating: "a1", count: 16), token: "primary-token")
        static let secondary = TwilioAccount(sid: "AC" + String(repeating: "b2", count: 16), token: "secondary-token")
    }

    let port: Int
    let log: URL
    private let process: ChildProcess

    private init(port: Int, log: URL, process: ChildProcess) {
        self.port = port
        self.log = log
        self.process = process
    }

    deinit { process.stop(grace: 1) }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/provider_test_server.py") }

    /// Starts the server on a free loopback port and waits (up to `timeout` seconds) until it listens.
    static func start(
        twilioAccounts: [TwilioAccount] = [.primary, .secondary], jsonAuth: (header: String, value: String)? = ("X-Api-Key", "json-key"),
        timeout: Double = 30
    ) async throws -> ProviderTestServer {
        let directory = TestEngine.temporaryDirectory()
        let log = directory.appendingPathComponent("requests.jsonl")
        var arguments = [script.path, "--host", "127.0.0.1", "--port", "0", "--log", log.path]
        for account in twilioAccounts { arguments += ["--twilio-account", "\(account.sid):\(account.token)"] }
        if let jsonAuth { arguments += ["--json-auth", "\(jsonAuth.header): \(jsonAuth.value)"] }
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("server.out"), stderr: directory.appendingPathComponent("server.err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = process.output().split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let port = Int(line.dropFirst(6)) {
                return ProviderTestServer(port: port, log: log, process: process)
            }
            guard process.isRunning else {
                throw SMTPHarnessError("provider_test_server.py exited before it was ready:\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("provider_test_server.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    func stop() { process.stop(grace: 2) }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    // MARK: Endpoints

    var twilioBaseURL: String { baseURL }
    var jsonURL: String { baseURL + "/sms/json" }
    func slackURL(_ name: String = "T000/B000/abc") -> String { baseURL + "/services/" + name }
    func teamsURL(_ name: String = "flow1") -> String { baseURL + "/workflows/" + name }
    func discordURL(token: String = "tok") -> String { baseURL + "/api/webhooks/1234567890/" + token }
    static func twilioPath(_ account: TwilioAccount) -> String { "/2010-04-01/Accounts/\(account.sid)/Messages.json" }

    // MARK: What it received

    /// Every request answered so far, in order.
    func requests() throws -> [Received] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Received.self, from: Data($0.utf8)) }
    }

    func requests(provider: String) throws -> [Received] { try requests().filter { $0.provider == provider } }

    /// Waits until at least `count` requests (matching `filter`) have been answered.
    @discardableResult
    func waitForRequests(_ count: Int, timeout: Double = 20, where filter: @escaping (Received) -> Bool = { _ in true }) async throws -> [Received] {
        var seen: [Received] = []
        _ = try await SMTPHarness.eventually(timeout: timeout) {
            seen = try requests().filter(filter)
            return seen.count >= count
        }
        return seen
    }

    // MARK: Control

    /// The next `times` requests (-1: all) whose path starts with `prefix` are answered with `status` and the
    /// provider's own error body, after `delay` seconds. Status 0 with a delay only slows the normal answer.
    func fail(prefix: String, status: Int, times: Int = -1, delay: Double = 0) async throws {
        let body: JSONValue = [
            "prefix": .string(prefix), "status": .number(Double(status)), "times": .number(Double(times)), "delay": .number(delay),
        ]
        try await control("/_control/fail", body: body)
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
