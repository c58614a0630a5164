import Foundation
import Herald
import HeraldServer
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Builds engines on a fresh store (a SQLite file in a temporary folder, or a PostgreSQL schema of the test's
/// own), with the shipped catalog and fast timings.
enum TestEngine {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// One folder per test run under the system temp folder; runs older than an hour are removed, so
    /// databases from earlier runs do not pile up.
    static let runDirectory: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("herald-tests")
        let manager = FileManager.default
        if let runs = try? manager.contentsOfDirectory(at: root, includingPropertiesForKeys: [.contentModificationDateKey]) {
            for run in runs {
                let modified = (try? run.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
                if modified < Date().addingTimeInterval(-3600) { try? manager.removeItem(at: run) }
            }
        }
        let run = root.appendingPathComponent(UUID().uuidString)
        try? manager.createDirectory(at: run, withIntermediateDirectories: true)
        return run
    }()

    static func temporaryDirectory() -> URL {
        let url = runDirectory.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func configuration(database: URL? = nil, adminKey: String? = "test-admin-key") throws -> HeraldConfiguration {
        var configuration = try HeraldConfiguration.load(file: repositoryRoot.appendingPathComponent("herald.yml").path, environment: [:])
        configuration.database = (database ?? temporaryDirectory().appendingPathComponent("herald.sqlite")).path
        configuration.adminKey = adminKey
        configuration.dispatch.pollIntervalSeconds = 0.05
        configuration.dispatch.retryBaseSeconds = 0.05
        configuration.dispatch.retryMaxSeconds = 0.2
        configuration.dispatch.leaseSeconds = 2
        return configuration
    }

    /// The schema standing in for each SQLite file that several engines of one test open.
    private static let sharedSchemas = Mutex<[URL: String]>([:])

    static func make(
        on backend: StoreBackend = .sqlite, _ configure: (inout HeraldConfiguration) -> Void = { _ in }, channels: [any DeliveryChannel] = [],
        database: URL? = nil, clock: HeraldClock = .system
    ) async throws -> HeraldEngine {
        var configuration = try configuration(database: database)
        if backend == .postgres { configuration.database = try await postgresDatabaseURL(sharing: database) }
        configure(&configuration)
        var logger = Logger(label: "herald-test")
        logger.logLevel = .warning
        let engine = try await HeraldEngine(configuration: configuration, channels: channels, logger: logger, clock: clock)
        if let store = engine.store as? PostgresStore, let schema = store.configuration.schema {
            PostgresTestSchemas.current?.register(schema: schema, store: store)
        }
        return engine
    }

    /// `HERALD_TEST_POSTGRES_URL` with a fresh schema of this test's own and a small pool (many tests run at once).
    /// Engines given the same SQLite `database` file share one schema, so restart and two-node tests run on
    /// PostgreSQL unchanged.
    static func postgresDatabaseURL(sharing database: URL? = nil) async throws -> String {
        let url = try #require(StoreBackend.postgresURL, "HERALD_TEST_POSTGRES_URL is not set")
        let schema: String
        if let database, let shared = sharedSchemas.withLock({ $0[database] }) {
            schema = shared
        } else {
            schema = try await PostgresTestSchemas.newSchema()
            if let database { sharedSchemas.withLock { $0[database] = schema } }
        }
        return url + (url.contains("?") ? "&" : "?") + "schema=\(schema)&pool_size=6"
    }
}

extension HeraldEngine {
    /// Runs the engine's services while `body` runs, then stops them.
    func whileRunning<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let services = try await self.services()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func eventually(timeout: Double = 10, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// A tenant with `count` subscribers named `s0`, `s1`, …
    func tenantWithSubscribers(_ count: Int, name: String = "Test") async throws -> (Tenant, [String]) {
        let (tenant, _) = try await createTenant(name: name)
        var ids: [String] = []
        for index in 0..<count {
            let id = "s\(index)"
            _ = try await upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, email: "\(id)@example.com"))
            ids.append(id)
        }
        return (tenant, ids)
    }
}

/// A channel for tests of the dispatcher: answers from a script, and counts what it saw.
final class ScriptedChannel: DeliveryChannel, @unchecked Sendable {
    let kind: ChannelKind
    private let lock = NSLock()
    private var script: [ChannelResult]
    private(set) var deliveries: [Int64] = []

    /// Answers each message with the next scripted result, then `.sent` once the script runs out.
    init(kind: ChannelKind, script: [ChannelResult]) {
        self.kind = kind
        self.script = script
    }

    func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        lock.withLock {
            batch.map { outgoing in
                deliveries.append(outgoing.message.rowID)
                return script.isEmpty ? .sent(detail: "250 ok") : script.removeFirst()
            }
        }
    }

    var deliveryCount: Int { lock.withLock { deliveries.count } }
}

extension HeraldEngine {
    /// Runs the real HTTP server (with WebSocket upgrades and the engine's services) on a free loopback
    /// port while `body` runs.
    func withLiveServer(_ body: @escaping @Sendable (_ port: Int) async throws -> Void) async throws {
        let app = try await HeraldServer.application(engine: self, logger: logger)
        try await app.test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    /// A fresh subscriber token's claims.
    func claims(tenantID: String, subscriberID: String) async throws -> (token: String, claims: SubscriberTokens.Claims) {
        let token = try await issueSubscriberToken(tenantID: tenantID, subscriberID: subscriberID).token
        return (token, try #require(verifySubscriberToken(token)))
    }

    /// Triggers `announcement_posted` for some subscribers.
    @discardableResult
    func announce(_ title: String, to subscribers: [String], tenantID: String) async throws -> String {
        try await trigger(
            Trigger(
                type: "announcement_posted", recipients: subscribers.map(Recipient.subscriber), payload: ["title": .string(title), "excerpt": "x"]),
            tenantID: tenantID
        ).0.eventId
    }
}

extension HeraldEngine {
    /// Waits until every message of the event has left the queue, then returns them with their attempts,
    /// by subscriber id.
    func settledMessages(tenantID: String, eventID: String, timeout: Double = 20) async throws -> [(Message, [DeliveryAttempt])] {
        #expect(
            try await eventually(timeout: timeout) {
                try await eventDetails(tenantID: tenantID, id: eventID).messages.allSatisfy { $0.status.isFinal }
            }, "messages still queued")
        var result: [(Message, [DeliveryAttempt])] = []
        for message in try await eventDetails(tenantID: tenantID, id: eventID).messages {
            result.append(try await self.message(tenantID: tenantID, id: message.id))
        }
        return result.sorted { $0.0.subscriberId < $1.0.subscriberId }
    }
}
