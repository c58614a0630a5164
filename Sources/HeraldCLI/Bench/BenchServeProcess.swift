import AsyncHTTPClient
import Foundation
import Herald

#if canImport(Glibc)
    import Glibc
#endif

/// `herald serve` of this same binary in a child process, on SQLite in a folder of its own and a free loopback port,
/// with the bench's configuration file: the server an app talks to. In a process of its own, its CPU time can be read
/// from `/proc` apart from the bench's client, which shares the machine with it.
final class BenchServeProcess: Sendable {
    let baseURL: String
    let adminKey: String
    private let process: Process
    private let folder: URL

    private init(process: Process, baseURL: String, adminKey: String, folder: URL) {
        self.process = process
        self.baseURL = baseURL
        self.adminKey = adminKey
        self.folder = folder
    }

    /// Starts the server and waits until it answers `/healthz`.
    static func start(configFile: String?) async throws -> BenchServeProcess {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let adminKey = "bench-admin-" + UUID().uuidString
        let process = Process()
        let port: Int
        do {
            port = try freeLoopbackPort()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments =
                ["serve"] + (configFile.map { ["--config", $0] } ?? [])
                + ["--database", folder.appendingPathComponent("bench.sqlite").path, "--host", "127.0.0.1", "--port", "\(port)"]
            var environment = ProcessInfo.processInfo.environment
            // The bench measures capacity; the API's fairness limits would measure themselves. The operator key goes
            // in the environment, where other users' `ps` does not show it.
            let settings: [String: String] = [
                "admin_key": adminKey, "role": "all", "api_limits.tenant_per_second": "0", "api_limits.subscriber_per_second": "0", "log_level": "warning",
                "email.outbox_dir": folder.appendingPathComponent("outbox").path, "email.from_address": "bench@herald.test",
            ]
            for (key, value) in settings {
                guard let variable = ConfigurationKey.named(key)?.variable else { throw BenchError("no configuration key \(key)") }
                environment[variable] = value
            }
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        let server = BenchServeProcess(process: process, baseURL: "http://127.0.0.1:\(port)", adminKey: adminKey, folder: folder)
        let deadline = ContinuousClock.now + .seconds(30)
        while !(await server.isHealthy()) {
            guard process.isRunning else {
                server.stop()
                throw BenchError("herald serve exited with status \(process.terminationStatus) before it answered")
            }
            guard ContinuousClock.now < deadline else {
                server.stop()
                throw BenchError("herald serve did not answer /healthz within 30 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return server
    }

    /// The server's CPU time so far (user and system), in seconds, from `/proc/<pid>/stat`.
    func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)
        // The fields after the command's name (in parentheses, which may hold spaces): utime and stime are 14 and 15.
        guard let close = stat.lastIndex(of: ")") else { throw BenchError("unreadable /proc stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { throw BenchError("unreadable /proc stat") }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Stops the server (SIGTERM, a graceful shutdown) and removes its folder.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    private func isHealthy() async -> Bool {
        let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: baseURL + "/healthz"), timeout: .seconds(1))
        return response?.status == .ok
    }

    /// A port nothing listens on now: bound to port 0, read back, closed.
    private static func freeLoopbackPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchError("no socket for a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("could not bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
