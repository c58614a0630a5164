import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `scripts/hostile_http_check.py` (malformed heads, slow heads, 5,000 partial heads, a flood past the
/// connection cap) against the real `herald serve` binary, so `swift test` covers what CI's hostile check
/// does. Two servers: one with room for 5,000 partial heads, one with a small cap to flood.
@Suite("herald serve under hostile HTTP clients", .serialized)
struct HostileHTTPProcessTests {
    typealias Harness = ServerProcessTests.ProcessHarness

    @Test("malformed heads, slow heads and 5,000 partial heads held open", .timeLimit(.minutes(3)))
    func malformedAndSlowHeads() async throws {
        let server = try await HostileServer.start(environment: ["HERALD_HEAD_TIMEOUT_SECONDS": "5", "HERALD_MAX_CONNECTIONS": "6000"])
        defer { server.stop() }
        let (status, output) = try await server.runCheck(["--head-timeout", "5", "--partial", "5000", "--time-limit", "150"])
        #expect(status == 0, "hostile_http_check.py failed:\n\(output)\nserver log:\n\(server.logText().suffix(3000))")
    }

    @Test("a flood past the connection cap is refused at once, logged once, and the server recovers", .timeLimit(.minutes(2)))
    func floodPastTheCap() async throws {
        let server = try await HostileServer.start(environment: ["HERALD_HEAD_TIMEOUT_SECONDS": "8", "HERALD_MAX_CONNECTIONS": "100"])
        defer { server.stop() }
        let (status, output) = try await server.runCheck([
            "--head-timeout", "8", "--partial", "0", "--max-connections", "100", "--flood", "300", "--log", server.log.path, "--time-limit", "90",
        ])
        #expect(status == 0, "hostile_http_check.py failed:\n\(output)\nserver log:\n\(server.logText().suffix(3000))")
    }
}

/// A `herald serve` child process with the connection limits under test in its environment, its output in
/// a log file the check script reads.
final class HostileServer: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let log: URL
    let port: Int

    private init(environment extra: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        log = directory.appendingPathComponent("herald.log")
        port = try ServerProcessTests.ProcessHarness.freePort()
        process.executableURL = try ServerProcessTests.ProcessHarness.heraldBinary()
        process.arguments = [
            "serve", "--database", directory.appendingPathComponent("herald.sqlite").path, "--host", "127.0.0.1", "--port", String(port),
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["HERALD_ADMIN_KEY"] = "hostile-test-admin-key"
        environment["HERALD_LOG_LEVEL"] = "notice"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.currentDirectoryURL = directory
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    static func start(environment: [String: String]) async throws -> HostileServer {
        let server = try HostileServer(environment: environment)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard server.process.isRunning else {
                throw ServerProcessTests.HarnessError("herald exited before it was healthy:\n\(server.logText().suffix(2000))")
            }
            // A connection that closes after the answer: a pooled client's spare would count against the cap.
            if let probe = try? await RawConnection.open(
                port: server.port, sending: Array("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
            {
                _ = await probe.closed(within: .seconds(2))
                if probe.text.hasPrefix("HTTP/1.1 200 ") { return server }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw ServerProcessTests.HarnessError("herald was not healthy after 30 s:\n\(server.logText().suffix(2000))")
    }

    /// Runs the check script against this server; returns its exit status and output. Waits without
    /// blocking a thread of the test's pool.
    func runCheck(_ arguments: [String]) async throws -> (Int32, String) {
        let script = ServerProcessTests.ProcessHarness.repositoryRoot.appendingPathComponent("scripts/hostile_http_check.py")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", script.path, "http://127.0.0.1:\(port)"] + arguments
        let outputFile = directory.appendingPathComponent("check.txt")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }
        check.standardOutput = output
        check.standardError = output
        check.standardInput = FileHandle.nullDevice
        try check.run()
        while check.isRunning {
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                check.terminate()  // the test was cancelled (its time limit): the script goes with it
                throw error
            }
        }
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        print("[hostile] \(arguments.joined(separator: " ")):\n\(text)")
        return (check.terminationStatus, text)
    }

    func logText() -> String {
        (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
