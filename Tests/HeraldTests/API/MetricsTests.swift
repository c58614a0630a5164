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
            #expect(Self.value(samples, "herald_circuit_open", [:]) == 0)

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
}
