import Foundation
import Herald
import Testing

/// `GET /metrics` is valid Prometheus text (parsed by prometheus_client's own parser), and its counters agree
/// with `GET /v1/stats` and with what a real SMTP server received.
@Suite("Metrics and stats")
struct MetricsTests {
    struct Sample: Decodable {
        var family: String
        var type: String
        var name: String
        var labels: [String: String]
        var value: Double
    }

    static func parse(_ exposition: String) async throws -> [Sample] {
        let file = TestEngine.temporaryDirectory().appendingPathComponent("metrics.txt")
        try exposition.write(to: file, atomically: true, encoding: .utf8)
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/parse_metrics.py").path
        let result = try await ChildProcess.run(python: [script, file.path], timeout: 60)
        guard result.status == 0 else { throw SMTPHarnessError("the exposition does not parse: \(result.errorOutput)") }
        return try JSONDecoder().decode([Sample].self, from: result.output)
    }

    /// Whether the engine's counters and attempt histogram each hold `count` outcomes (read without the parser, to poll).
    static func countsOutcomes(_ count: Double, _ engine: HeraldEngine) async throws -> Bool {
        let lines = try await engine.metricsExposition().split(separator: "\n")
        func sum(_ prefix: String) -> Double {
            lines.filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        return sum("herald_messages_total{") == count && sum("herald_delivery_attempt_duration_seconds_count{") == count
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    @Test func countersAgreeWithStatsAndWithTheSMTPServer() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await EmailDeliveryTests.engine(smtp: EmailDeliveryTests.smtp(port: server.port))
        let tenantID = try await EmailDeliveryTests.tenant(engine, count: 60) { $0 % 6 == 0 ? "reject\($0)" : "user\($0)" }
        try await engine.testAPI { api in
            let key = try await engine.createAPIKey(tenantID: tenantID, name: "metrics").key
            let eventID = try await EmailDeliveryTests.triggerAll(engine, tenantID: tenantID)
            #expect(
                try await engine.eventually(timeout: 30) {
                    let counts = try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
                    return counts["sent"] == 50 && counts["failed"] == 10
                })
            // The dispatcher counts a batch's outcomes just after committing them: on a busy machine the scrape may
            // come in between, so wait for the last of them (the checks below still compare every figure).
            for _ in 0..<200 {
                if try await Self.countsOutcomes(60, engine) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let reply = try await api.send(.get, "/metrics")
            #expect(reply.status == .ok && reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            let samples = try await Self.parse(reply.text)
            let sent = Self.value(samples, "herald_messages_total", ["channel": "email", "status": "sent"])
            let failed = Self.value(samples, "herald_messages_total", ["channel": "email", "status": "failed"])
            #expect(sent == 50 && failed == 10)
            #expect(Double(server.receivedCount()) == sent, "the counter agrees with what the server received")
            #expect(Self.value(samples, "herald_delivery_attempt_duration_seconds_count", ["channel": "email"]) == 60)
            #expect(Self.value(samples, "herald_events_total", ["priority": "medium"]) == 1)
            #expect(samples.contains { $0.name == "herald_queue_depth" && $0.labels["priority"] == "critical" })
            #expect(Self.value(samples, "herald_circuits_open", [:]) == 0)

            let stats = try await api.send(.get, "/v1/stats?window=1h", auth: key)
            #expect(stats.status == .ok, "\(stats.text)")
            #expect(stats["totals"]?["sent"]?.doubleValue == sent && stats["totals"]?["failed"]?.doubleValue == failed)
            #expect(stats["by_event_type"]?["notice"]?["sent"]?.doubleValue == 50)
            #expect(stats["by_channel"]?["email"]?["success_rate"]?.doubleValue == 50.0 / 60.0)
            #expect(stats["latency_ms"]?["samples"]?.doubleValue == 50)
            let p50 = stats["latency_ms"]?["p50"]?.doubleValue ?? -1
            let p99 = stats["latency_ms"]?["p99"]?.doubleValue ?? -1
            #expect(p50 >= 0 && p99 >= p50)

            let bad = try await api.send(.get, "/v1/stats?window=soon", auth: key)
            #expect(bad.status == .unprocessableContent && bad.text.contains("window"))
            #expect(try await api.send(.get, "/v1/stats").status == .unauthorized)
        }
    }

    /// /metrics is open and not scoped to a tenant: a circuit's name (a subscriber's webhook host, a tenant's SMTP
    /// host) never becomes a label, and however many hosts there are, the circuit series stay one per transport.
    @Test("open circuits are counted by transport, with no host names and a bounded number of series")
    func circuitsHaveNoHostLabels() async throws {
        let engine = try await TestEngine.make()
        let threshold = engine.circuits.settings.failureThreshold
        for host in 0..<200 {
            for _ in 0..<threshold { engine.circuits.recordFailure(WebhookCircuit.subscriberHost("https://private-\(host).customer.example/hook")) }
        }
        for _ in 0..<threshold { engine.circuits.recordFailure("chat slack hooks.slack.example") }
        engine.circuits.recordSuccess("sms twilio api.twilio.example")
        let exposition = try await engine.metricsExposition()
        #expect(!exposition.contains("customer.example") && !exposition.contains("slack.example") && !exposition.contains("twilio.example"))
        let samples = try await Self.parse(exposition)
        let circuitSeries = samples.filter { $0.name.hasPrefix("herald_circuit") }
        #expect(circuitSeries.count <= 5, "\(circuitSeries.map(\.labels))")
        #expect(Self.value(samples, "herald_circuits_open", ["transport": "webhook"]) == 200)
        #expect(Self.value(samples, "herald_circuits_open", ["transport": "chat"]) == 1)
        #expect(Self.value(samples, "herald_circuits_open", ["transport": "sms"]) == 0)
    }
}
