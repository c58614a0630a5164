import Foundation
import Herald
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real `herald` binary, run as a child process over a SQLite file in a temporary folder, talked to
/// over HTTP on loopback. These tests crash it on purpose (`kill -9`) and measure it (`/proc/PID/status`).
///
/// The binary is found next to the test bundle (SwiftPM builds it for `swift test`), or at `$HERALD_BIN`.
@Suite("herald serve as a separate process", .serialized)
struct ServerProcessTests {
    /// Messages per test: 20 triggers of 1,000 inline recipients (the most one trigger may name).
    static let triggers = 20
    static let perTrigger = 1000
    static let total = triggers * perTrigger

    @Test("kill -9 mid-delivery then restart delivers every in-app message exactly once", .timeLimit(.minutes(3)))
    func killMidDeliveryThenRestart() async throws {
        let started = Date()
        let harness = try ProcessHarness()
        defer { harness.shutDown() }

        print("[process] herald binary: \(harness.binary.path)")
        let first = try await harness.startServer(name: "first")
        let key = try await harness.createTenant(on: first, name: "Crash test")

        // One bulk request, one transaction: all 20,000 messages are queued before the first is delivered,
        // which gives the widest window to crash in. They are sent a few seconds later: an in-app message due at
        // once is delivered in the trigger's own transaction, with nothing left in flight to crash in.
        let sendAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(8))
        var events: [[String: Any]] = []
        var recipientsOf: [[String]] = []
        for batch in 0..<Self.triggers {
            let ids = (0..<Self.perTrigger).map { String(format: "u%05d", batch * Self.perTrigger + $0) }
            recipientsOf.append(ids)
            events.append([
                "type": "announcement_posted", "recipients": ids.map { ["id": $0] }, "send_at": sendAt,
                "payload": ["title": "Water off on Tuesday", "excerpt": "Maintenance from 9 to 12."],
            ])
        }
        let bulk = try await first.client.request("POST", "/v1/events/bulk", auth: key, body: ["events": events], timeout: 120)
        try #require(bulk.status == 202, "bulk trigger: \(bulk.status) \(bulk.text)")
        let eventIDs = try bulk.decode(Receipts.self).data.map(\.eventId)
        try #require(eventIDs.count == Self.triggers)
        let accepted = Date()

        // Crash mid-delivery with a batch in flight: once a tenth is delivered, wait until a batch is claimed
        // (`sending`) and kill at once. A kill can still land between two batches, when no lease is held;
        // then restart and crash again (up to three times), so the lease-release path is exercised too.
        let killAfter = Self.total / 10
        var server = first
        var firstKill: (at: Date, delivered: Int)?
        var lastKilledAt = Date()
        var releasedAtRestarts = 0
        var restartBegan = Date()
        for round in 1...3 {
            var remaining = Self.total
            let reached = try await ProcessHarness.eventually(timeout: 60, interval: 0.005) {
                remaining = try await server.client.queueRemaining()
                return remaining == 0 || round > 1 || Self.total - remaining >= killAfter
            }
            try #require(reached, "delivery did not reach the kill point within 60 s (\(remaining) still queued)")
            if remaining == 0 {
                // Only possible after a restart (the first kill came mid-delivery, see the require below).
                try #require(round > 1, "the queue drained before the kill; the test would not crash mid-delivery (raise the message count)")
                break
            }
            let inFlight = try await ProcessHarness.eventually(timeout: 10, interval: 0.001) {
                try await !server.client.request("GET", "/v1/messages?channel=in_app&status=sending&limit=1", auth: key)
                    .decode(MessagePage.self).data.isEmpty
            }
            server.sigkill()
            lastKilledAt = Date()
            try #require(!server.process.isRunning, "the server survived SIGKILL")
            if firstKill == nil { firstKill = (lastKilledAt, Self.total - remaining) }
            print(
                "[process] kill -9 #\(round) \(String(format: "%.2f", lastKilledAt.timeIntervalSince(accepted)))s after the bulk was accepted: "
                    + "\(remaining) of \(Self.total) queued at the last poll, a batch \(inFlight ? "was" : "was not seen") in flight")

            // Restart on the same database.
            restartBegan = Date()
            server = try await harness.startServer(name: "restart-\(round)", database: URL(fileURLWithPath: first.database))
            let released = server.releasedLeases()
            releasedAtRestarts += released
            print("[process] restart #\(round) released \(released) leases left by the killed server")
            if released > 0 { break }
        }
        let second = server
        let killedAt = lastKilledAt
        try #require(firstKill != nil)
        let drained = try await ProcessHarness.eventually(timeout: 90) { try await second.client.queueRemaining() == 0 }
        try #require(drained, "the queue did not drain within 90 s of the restart")
        let finished = Date()
        for eventID in eventIDs {
            let details = try await second.client.request("GET", "/v1/events/\(eventID)?limit=1", auth: key).decode(EventSummary.self)
            #expect(details.counts["delivered"] == Self.perTrigger, "event \(eventID): \(details.counts)")
        }

        // Exactly once, message by message: each event has one delivered in-app message per recipient and nothing else.
        var deliveredBeforeKill = 0
        var deliveredAfterKill = 0
        var retried: [String] = []
        var everyMessage: [String] = []
        for (index, eventID) in eventIDs.enumerated() {
            let messages = try await second.client.inAppMessages(event: eventID, auth: key)
            #expect(messages.count == Self.perTrigger, "event \(eventID) has \(messages.count) in-app messages")
            let notDelivered = messages.filter { $0.status != .delivered }
            #expect(
                notDelivered.isEmpty,
                "event \(eventID): \(notDelivered.count) in-app messages not delivered, e.g. \(notDelivered.prefix(3).map { "\($0.id) \($0.status)" })"
            )
            let subscribers = messages.map(\.subscriberId)
            #expect(Set(subscribers).count == subscribers.count, "event \(eventID) has more than one in-app message for a subscriber")
            #expect(Set(subscribers) == Set(recipientsOf[index]), "event \(eventID) went to the wrong subscribers")
            for message in messages {
                everyMessage.append(message.id)
                if message.attempts > 1 { retried.append(message.id) }
                guard let sentAt = message.sentAt else { continue }
                if sentAt < killedAt { deliveredBeforeKill += 1 } else { deliveredAfterKill += 1 }
            }
        }
        // Proof the crash really came mid-delivery: both processes delivered part of the load.
        #expect(deliveredBeforeKill >= killAfter, "only \(deliveredBeforeKill) messages were delivered before the last kill")
        #expect(firstKill!.delivered >= killAfter && firstKill!.delivered < Self.total)
        #expect(deliveredAfterKill > 0, "nothing was left for the restarted server: the kill did not interrupt delivery")
        #expect(deliveredBeforeKill + deliveredAfterKill == Self.total)

        // The attempt log: one attempt, delivered, including for messages that were claimed when the server died.
        let sample = Array(retried.prefix(20)) + Array(everyMessage.shuffled().prefix(10))
        for id in sample {
            let detail = try await second.client.request("GET", "/v1/messages/\(id)", auth: key).decode(MessageAttempts.self)
            #expect(detail.attempts.count == 1 && detail.attempts.first?.outcome == .delivered, "\(id): attempts \(detail.attempts.map(\.outcome))")
        }

        // And as the subscribers see it: one inbox item each.
        for subscriber in recipientsOf.flatMap({ $0 }).shuffled().prefix(20) {
            let token = try await second.client.request("POST", "/v1/subscribers/\(subscriber)/token", auth: key, body: [String: Any]())
                .decode(TokenReply.self).token
            let count = try await second.client.request("GET", "/v1/inbox/count", auth: token).decode(InboxTotal.self)
            #expect(count.total == 1, "subscriber \(subscriber) has \(count.total) inbox items")
        }

        #expect(releasedAtRestarts > 0 && !retried.isEmpty, "no kill landed while a batch was claimed, so no lease was ever released")
        print(
            "[process] \(deliveredBeforeKill) delivered before the last kill, \(deliveredAfterKill) after; "
                + "\(retried.count) messages were claimed when a kill came; the last restart drained the queue in "
                + "\(String(format: "%.2f", finished.timeIntervalSince(restartBegan)))s")
        print("[process] kill/restart test took \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
    }

    @Test("a topic of 20,000 fans out completely", .timeLimit(.minutes(3)))
    func topicFanout() async throws {
        let started = Date()
        let harness = try ProcessHarness()
        defer { harness.shutDown() }

        let server = try await harness.startServer(name: "fanout")
        let sampler = RSSSampler(pid: server.pid)
        sampler.start()
        defer { sampler.stop() }
        let key = try await harness.createTenant(on: server, name: "Fan-out")

        // Create the subscribers with inline-recipient triggers due tomorrow, then cancel those events, so
        // nothing is delivered before the topic trigger.
        let tomorrow = Timestamp.format(Date().addingTimeInterval(86_400))
        var ids: [String] = []
        var events: [[String: Any]] = []
        for batch in 0..<Self.triggers {
            let chunk = (0..<Self.perTrigger).map { String(format: "r%05d", batch * Self.perTrigger + $0) }
            ids += chunk
            events.append([
                "type": "announcement_posted", "recipients": chunk.map { ["id": $0] }, "send_at": tomorrow,
                "payload": ["title": "Setup", "excerpt": "x"],
            ])
        }
        let bulk = try await server.client.request("POST", "/v1/events/bulk", auth: key, body: ["events": events], timeout: 120)
        try #require(bulk.status == 202, "bulk trigger: \(bulk.status) \(bulk.text)")
        for receipt in try bulk.decode(Receipts.self).data {
            let cancelled = try await server.client.request("DELETE", "/v1/events/\(receipt.eventId)", auth: key)
            try #require(cancelled.status == 200, "cancel: \(cancelled.status) \(cancelled.text)")
        }
        try #require(try await server.client.queueRemaining() == 0)

        let topic = try await server.client.request("PUT", "/v1/topics/residents", auth: key, body: ["name": "Residents"])
        try #require(topic.status == 200 || topic.status == 201, "topic: \(topic.status) \(topic.text)")
        for start in stride(from: 0, to: ids.count, by: 5000) {
            let added = try await server.client.request(
                "POST", "/v1/topics/residents/subscribers", auth: key, body: ["subscribers": Array(ids[start..<min(start + 5000, ids.count)])])
            try #require(added.status == 200, "add members: \(added.status) \(added.text)")
        }

        let rssBefore = sampler.current() ?? 0
        let triggered = Date()
        let reply = try await server.client.request(
            "POST", "/v1/events", auth: key,
            body: ["type": "announcement_posted", "recipients": [["topic": "residents"]], "payload": ["title": "AGM", "excerpt": "Thursday 7pm."]])
        try #require(reply.status == 202, "topic trigger: \(reply.status) \(reply.text)")
        let eventID = try reply.decode(Receipt.self).eventId

        var plannedAt: Date?
        let done = try await ProcessHarness.eventually(timeout: 100, interval: 0.1) {
            let details = try await server.client.request("GET", "/v1/events/\(eventID)?limit=1", auth: key).decode(EventSummary.self)
            if details.status == "planned", plannedAt == nil { plannedAt = Date() }
            return details.status == "planned" && details.counts["delivered"] == Self.total
        }
        let elapsed = Date().timeIntervalSince(triggered)
        sampler.stop()
        try #require(done, "the topic did not fan out and deliver within 100 s")

        let messages = try await server.client.inAppMessages(event: eventID, auth: key)
        #expect(messages.count == Self.total)
        #expect(messages.allSatisfy { $0.status == .delivered })
        #expect(Set(messages.map(\.subscriberId)) == Set(ids), "every member, and only members, got the message")

        let peak = sampler.peakKB
        print(
            "[process] topic of \(Self.total): fan-out planned after \(String(format: "%.2f", plannedAt.map { $0.timeIntervalSince(triggered) } ?? -1))s, "
                + "all delivered after \(String(format: "%.2f", elapsed))s; server RSS \(rssBefore / 1024) MB before the trigger, "
                + "peak \(peak / 1024) MB (\(sampler.samples) samples)")
        #expect(sampler.samples > 0, "could not read the server's resident memory")
        #expect(peak < 300 * 1024, "peak RSS \(peak / 1024) MB is over 300 MB")
        print("[process] fan-out test took \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
    }
}

// MARK: - Replies

extension ServerProcessTests {
    struct Receipt: Decodable {
        var eventId: String
        enum CodingKeys: String, CodingKey { case eventId = "event_id" }
    }
    struct Receipts: Decodable { var data: [Receipt] }
    struct EventSummary: Decodable {
        var id: String
        var status: String
        var counts: [String: Int]
    }
    struct MessagePage: Decodable {
        var data: [Message]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case data
            case nextCursor = "next_cursor"
        }
    }
    /// `GET /v1/messages/{id}`: the message, with the attempt log under `attempt_log`.
    struct MessageAttempts: Decodable {
        var id: String
        var attempts: [DeliveryAttempt]
        enum CodingKeys: String, CodingKey {
            case id
            case attempts = "attempt_log"
        }
    }
    struct TokenReply: Decodable { var token: String }
    struct InboxTotal: Decodable { var total: Int }
    struct CreatedTenant: Decodable {
        struct Key: Decodable { var key: String }
        var apiKey: Key
        enum CodingKeys: String, CodingKey { case apiKey = "api_key" }
    }
    struct Readiness: Decodable {
        struct Queue: Decodable {
            var byPriority: [String: Int]
            enum CodingKeys: String, CodingKey { case byPriority = "by_priority" }
        }
        var queue: Queue?
    }
}

// MARK: - Harness

extension ServerProcessTests {
    /// A temporary folder and the servers started in it; `shutDown` kills any still running and removes the folder.
    final class ProcessHarness: @unchecked Sendable {
        static let adminKey = "process-test-admin-key"
        let directory: URL
        let binary: URL
        let config: URL
        private let lock = NSLock()
        private var servers: [ServerProcess] = []

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-process-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            binary = try Self.heraldBinary()
            config = Self.repositoryRoot.appendingPathComponent("herald.yml")
        }

        static var repositoryRoot: URL {
            // Process/ → HeraldTests/ → Tests/ → the repository.
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
        }

        /// `$HERALD_BIN`, else the `herald` SwiftPM built next to the test bundle.
        static func heraldBinary() throws -> URL {
            let environment = ProcessInfo.processInfo.environment
            if let path = environment["HERALD_BIN"], !path.isEmpty {
                guard FileManager.default.isExecutableFile(atPath: path) else { throw HarnessError("HERALD_BIN=\(path) is not an executable") }
                return URL(fileURLWithPath: path)
            }
            var folders: [URL] = []
            // Linux: the test runner is `<build>/HeraldPackageTests.xctest`, an executable in the build folder.
            if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
            folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
            // macOS: the tests are a `.xctest` bundle in the build folder, loaded by a separate runner.
            for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
                folders.append(bundle.bundleURL.deletingLastPathComponent())
            }
            folders.append(repositoryRoot.appendingPathComponent(".build/debug"))
            for folder in folders {
                let candidate = folder.appendingPathComponent("herald")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.resolvingSymlinksInPath() }
            }
            throw HarnessError("no herald binary in \(folders.map(\.path)); run `swift build` or set HERALD_BIN")
        }

        /// Starts `herald serve` on a free loopback port and waits for `/healthz`. `databaseURL` (a
        /// `postgres://` URL) replaces the SQLite file; `arguments` are added to `serve`'s (`--role worker`).
        func startServer(name: String, database: URL? = nil, databaseURL: String? = nil, arguments: [String] = []) async throws -> ServerProcess {
            let database = databaseURL ?? (database ?? directory.appendingPathComponent("herald.sqlite")).path
            var lastError: (any Error)?
            for attempt in 1...4 {
                let port = try Self.freePort()
                let log = directory.appendingPathComponent("\(name)-\(attempt).log")
                let server = try ServerProcess(
                    binary: binary, config: config, database: database, port: port, log: log, adminKey: Self.adminKey, arguments: arguments)
                lock.withLock { servers.append(server) }
                do {
                    try await server.waitUntilHealthy(timeout: 30)
                    return server
                } catch {
                    // Most likely another process took the port between picking and binding it: try another.
                    server.sigkill()
                    lastError = error
                }
            }
            throw lastError ?? HarnessError("server did not start")
        }

        func createTenant(on server: ServerProcess, name: String) async throws -> String {
            let reply = try await server.client.request("POST", "/v1/tenants", auth: Self.adminKey, body: ["name": name])
            guard reply.status == 201 else { throw HarnessError("tenant creation: \(reply.status) \(reply.text)") }
            return try reply.decode(CreatedTenant.self).apiKey.key
        }

        func shutDown() {
            let all = lock.withLock { servers }
            for server in all { server.sigkill() }
            try? FileManager.default.removeItem(at: directory)
        }

        /// Binds port 0 on 127.0.0.1 to have the kernel pick a free port, then releases it.
        static func freePort() throws -> Int {
            #if os(Linux)
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
                let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw HarnessError("bind() failed: errno \(errno)") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw HarnessError("getsockname() failed: errno \(errno)") }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
        static func eventually(timeout: Double, interval: Double = 0.05, _ condition: () async throws -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
            return try await condition()
        }
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One `herald serve` child process, its output in a log file.
    final class ServerProcess: @unchecked Sendable {
        let process = Process()
        let database: String
        let port: Int
        let log: URL
        let client: JSONClient

        init(binary: URL, config: URL, database: String, port: Int, log: URL, adminKey: String, arguments: [String] = []) throws {
            self.database = database
            self.port = port
            self.log = log
            self.client = JSONClient(port: port)
            process.executableURL = binary
            process.arguments =
                [
                    "serve", "--config", config.path, "--database", database, "--host", "127.0.0.1", "--port", String(port),
                ] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["HERALD_ADMIN_KEY"] = adminKey
            environment["HERALD_LEASE_SECONDS"] = "2"
            environment["HERALD_POLL_INTERVAL_SECONDS"] = "0.05"
            environment["HERALD_LOG_LEVEL"] = "notice"
            process.environment = environment
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let output = try FileHandle(forWritingTo: log)
            defer { try? output.close() }  // the child has its own copy
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        func waitUntilHealthy(timeout: Double) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                guard process.isRunning else {
                    throw HarnessError("herald exited with status \(process.terminationStatus) before it was healthy:\n\(logText().suffix(2000))")
                }
                if let reply = try? await client.request("GET", "/healthz", timeout: 2), reply.status == 200 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw HarnessError("herald was not healthy after \(timeout) s:\n\(logText().suffix(2000))")
        }

        /// `kill -9`: no chance to finish a batch, release a lease or close the database.
        func sigkill() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 10)
        }

        /// Waits, up to `timeout`, for the process to be gone.
        func waitForExit(timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            return !process.isRunning
        }

        /// The `count` of the "released leases left by a previous run" line this server logged at start, or 0.
        func releasedLeases() -> Int {
            guard let line = logText().split(separator: "\n").first(where: { $0.contains("released leases") }),
                let range = line.range(of: "count=")
            else { return 0 }
            return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }

        func logText() -> String {
            (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// JSON over HTTP to one server, with bearer auth.
    struct JSONClient: Sendable {
        let port: Int
        let session: URLSession = {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = 120
            configuration.httpMaximumConnectionsPerHost = 4
            return URLSession(configuration: configuration)
        }()

        struct Reply: Sendable {
            var status: Int
            var data: Data
            var text: String { String(decoding: data, as: UTF8.self) }
            func decode<T: Decodable>(_ type: T.Type) throws -> T {
                do {
                    return try JSONCoding.decoder.decode(type, from: data)
                } catch {
                    throw HarnessError("cannot decode \(type) from HTTP \(status): \(text.prefix(500)) (\(error))")
                }
            }
        }

        func request(_ method: String, _ path: String, auth: String? = nil, body: Any? = nil, timeout: Double = 60) async throws -> Reply {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.timeoutInterval = timeout
            if let auth { request.setValue("Bearer \(auth)", forHTTPHeaderField: "Authorization") }
            if let body {
                request.httpBody = try JSONSerialization.data(withJSONObject: body)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await session.data(for: request)
            return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, data: data)
        }

        /// Messages queued or in flight, all priorities (`GET /readyz`).
        func queueRemaining() async throws -> Int {
            let reply = try await request("GET", "/readyz", timeout: 10)
            guard let queue = try reply.decode(Readiness.self).queue else { throw HarnessError("/readyz has no queue: \(reply.text)") }
            return queue.byPriority.values.reduce(0, +)
        }

        /// Every in-app message of an event, in any state, following `next_cursor`.
        func inAppMessages(event: String, auth: String) async throws -> [Message] {
            var all: [Message] = []
            var cursor: String?
            repeat {
                var path = "/v1/messages?event=\(event)&channel=in_app&limit=1000"
                if let cursor { path += "&cursor=\(cursor)" }
                let reply = try await request("GET", path, auth: auth)
                guard reply.status == 200 else { throw HarnessError("GET \(path): \(reply.status) \(reply.text.prefix(300))") }
                let page = try reply.decode(MessagePage.self)
                all += page.data
                cursor = page.nextCursor
            } while cursor != nil
            return all
        }
    }

    /// Samples a process's resident memory every 100 ms, keeping the peak: `VmRSS` in `/proc/PID/status`,
    /// or `ps -o rss=` where there is no `/proc` (macOS).
    final class RSSSampler: @unchecked Sendable {
        let pid: Int32
        private let lock = NSLock()
        private var peak = 0
        private var count = 0
        private var task: Task<Void, Never>?

        init(pid: Int32) { self.pid = pid }

        var peakKB: Int { lock.withLock { peak } }
        var samples: Int { lock.withLock { count } }

        /// Resident memory in KiB.
        func current() -> Int? {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
                guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
                return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
            }
            guard !FileManager.default.fileExists(atPath: "/proc/self/status") else { return nil }  // the process is gone
            let ps = Process()
            let pipe = Pipe()
            ps.executableURL = URL(fileURLWithPath: "/bin/ps")
            ps.arguments = ["-o", "rss=", "-p", String(pid)]
            ps.standardOutput = pipe
            guard (try? ps.run()) != nil else { return nil }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            ps.waitUntilExit()
            return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }

        func sample() {
            guard let value = current() else { return }
            lock.withLock {
                peak = max(peak, value)
                count += 1
            }
        }

        func start() {
            sample()
            task = Task { [weak self] in
                while !Task.isCancelled {
                    self?.sample()
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        func stop() {
            task?.cancel()
            task = nil
        }
    }
}
