import Foundation
import Herald
import Testing

/// `herald serve --role api|worker|all`: how a role is chosen, and an API process and a worker process
/// splitting one PostgreSQL database between them.
@Suite("Node roles")
struct NodeRoleTests {
    @Test("a role comes from --role, HERALD_ROLE or role: in herald.yml; anything else is an error naming where it was set")
    func configuration() throws {
        #expect(HeraldConfiguration().role == .all)
        #expect(try HeraldConfiguration.load(file: nil, environment: ["HERALD_ROLE": "worker"]).role == .worker)
        #expect(try HeraldConfiguration.role("API", source: "--role") == .api)
        let file = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml")
        try "role: api\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try HeraldConfiguration.load(file: file.path, environment: [:]).role == .api)
        // The environment overrides the file, as for every other setting.
        #expect(try HeraldConfiguration.load(file: file.path, environment: ["HERALD_ROLE": "all"]).role == .all)
        let error = #expect(throws: ConfigurationError.self) { try HeraldConfiguration.load(file: nil, environment: ["HERALD_ROLE": "dispatcher"]) }
        #expect(error?.description.contains("HERALD_ROLE") == true)
        #expect(error?.description.contains("api, worker or all") == true)
    }

    @Test("split roles need PostgreSQL: on SQLite the configuration is refused, saying why")
    func splitRolesNeedPostgres() throws {
        var configuration = try TestEngine.configuration()
        configuration.role = .api
        let error = #expect(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(error?.description.contains("PostgreSQL") == true)
        configuration.role = .all
        try configuration.validate()
        configuration.role = .worker
        configuration.database = "postgres://herald@127.0.0.1:5432/herald"
        try configuration.validate()
    }

    @Test("herald serve --role api on SQLite exits at once with the reason", .timeLimit(.minutes(1)))
    func apiRoleOnSQLiteExits() async throws {
        let harness = try ServerProcessTests.ProcessHarness()
        defer { harness.shutDown() }
        let server = try ServerProcessTests.ServerProcess(
            binary: harness.binary, config: harness.config, database: harness.directory.appendingPathComponent("herald.sqlite").path,
            port: try ServerProcessTests.ProcessHarness.freePort(), log: harness.directory.appendingPathComponent("api.log"),
            adminKey: ServerProcessTests.ProcessHarness.adminKey, arguments: ["--role", "api"])
        #expect(server.waitForExit(timeout: 30))
        #expect(server.process.terminationStatus != 0)
        #expect(server.logText().contains("role api needs a PostgreSQL database"))
    }

    @Test(
        "an api process and a worker process on one PostgreSQL: the api node accepts and streams, only the worker delivers",
        .timeLimit(.minutes(3)), .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
    func apiAndWorkerSplit() async throws {
        let schema = try await PostgresTestSchemas.newSchema()
        let url = try #require(StoreBackend.postgresURL)
        let database = url + (url.contains("?") ? "&" : "?") + "schema=\(schema)&pool_size=4"
        let harness = try ServerProcessTests.ProcessHarness()
        defer {
            harness.shutDown()
        }
        do {
            let api = try await harness.startServer(name: "api", databaseURL: database, arguments: ["--role", "api"])
            var worker = try await harness.startServer(name: "worker", databaseURL: database, arguments: ["--role", "worker"])

            // Each says what it is; the api node is ready without a dispatcher, the worker with one.
            let apiReady = try await api.client.request("GET", "/readyz")
            #expect(apiReady.status == 200)
            let apiReadiness = try JSONValue.parse(apiReady.text)
            #expect(apiReadiness["role"] == "api")
            #expect(apiReadiness["dispatcher"]?.stringValue?.contains("not running") == true)
            #expect(
                try await ServerProcessTests.ProcessHarness.eventually(timeout: 20) {
                    try await worker.client.request("GET", "/readyz").status == 200
                })
            #expect(try JSONValue.parse(try await worker.client.request("GET", "/readyz").text)["role"] == "worker")
            #expect(try await worker.client.request("GET", "/metrics").status == 200)
            // The worker serves no tenant routes: an answer, not a silent hang or a half-working API.
            let refused = try await worker.client.request(
                "POST", "/v1/tenants", auth: ServerProcessTests.ProcessHarness.adminKey, body: ["name": "x"])
            #expect(refused.status == 404)

            // Trigger through the api node; the worker delivers, and the api node's live stream shows it.
            let key = try await harness.createTenant(on: api, name: "Roles")
            for id in ["r1", "r2"] {
                let created = try await api.client.request("PUT", "/v1/subscribers/\(id)", auth: key, body: ["name": id])
                #expect(created.status == 201 || created.status == 200, "\(created.text)")
            }
            let token = try await api.client.request("POST", "/v1/subscribers/r1/token", auth: key, body: [String: Any]())
                .decode(ServerProcessTests.TokenReply.self).token
            let stream = SSEClient(url: "http://127.0.0.1:\(api.port)/v1/inbox/stream?token=\(token)")
            defer { stream.close() }
            #expect(try await ServerProcessTests.ProcessHarness.eventually(timeout: 10) { stream.statusCode == 200 })
            let first = try await announce("Split roles", on: api, key: key)
            let pushed = await stream.next(timeout: 20) { $0.data.contains("Split roles") }
            #expect(pushed != nil, "the subscriber streaming from the api node saw the worker's delivery")
            #expect(try await delivered(first, on: api, key: key) == 2)

            // A topic's fan-out is a job the api node queues and a worker plans and delivers.
            #expect(try await api.client.request("PUT", "/v1/topics/residents", auth: key, body: ["name": "Residents"]).status < 300)
            let joined = try await api.client.request("POST", "/v1/topics/residents/subscribers", auth: key, body: ["subscribers": ["r1", "r2"]])
            #expect(joined.status < 300, "\(joined.text)")
            let toTopic = try await api.client.request(
                "POST", "/v1/events", auth: key,
                body: ["type": "announcement_posted", "recipients": [["topic": "residents"]], "payload": ["title": "Topic", "excerpt": "x"]])
            #expect(toTopic.status == 202, "\(toTopic.text)")
            let topicEvent = try JSONValue.parse(toTopic.text)["event_id"]?.stringValue ?? ""
            #expect(
                try await ServerProcessTests.ProcessHarness.eventually(timeout: 30) {
                    try await delivered(topicEvent, on: api, key: key) == 2
                })

            // Without a worker, the api node accepts and keeps the messages queued, and delivers nothing itself.
            worker.sigkill()
            let second = try await announce("While no worker runs", on: api, key: key)
            try await Task.sleep(for: .seconds(3))
            let waiting = try await api.client.inAppMessages(event: second, auth: key)
            #expect(waiting.count == 2)
            #expect(waiting.allSatisfy { $0.status == .queued || $0.status == .sending }, "\(waiting.map(\.status))")
            // A new worker picks them up: nothing was lost.
            worker = try await harness.startServer(name: "worker-2", databaseURL: database, arguments: ["--role", "worker"])
            #expect(
                try await ServerProcessTests.ProcessHarness.eventually(timeout: 30) {
                    try await delivered(second, on: api, key: key) == 2
                })
            #expect(await stream.next(timeout: 20) { $0.data.contains("While no worker runs") } != nil)
        } catch {
            _ = try? await PostgresTestSchemas.administer("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        harness.shutDown()
        _ = try? await PostgresTestSchemas.administer("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    private func announce(_ title: String, on server: ServerProcessTests.ServerProcess, key: String) async throws -> String {
        let reply = try await server.client.request(
            "POST", "/v1/events", auth: key,
            body: ["type": "announcement_posted", "recipients": ["r1", "r2"], "payload": ["title": title, "excerpt": "From the api node"]])
        #expect(reply.status == 202, "\(reply.text)")
        return try JSONValue.parse(reply.text)["event_id"]?.stringValue ?? ""
    }

    private func delivered(_ event: String, on server: ServerProcessTests.ServerProcess, key: String) async throws -> Int {
        try await server.client.inAppMessages(event: event, auth: key).filter { $0.status == .delivered }.count
    }
}
