import Foundation
import Herald
import Testing

@Suite("Live inbox with many connections", .timeLimit(.minutes(5)))
struct ManyStreamsTests {
    @Test("1,000 connected subscribers each receive only their own messages; dropping half mid-stream does not disturb the rest")
    func thousandStreams() async throws {
        let count = Int(ProcessInfo.processInfo.environment["HERALD_TEST_STREAMS"] ?? "") ?? 1000
        // Frequent heartbeats, so the server notices the dropped sockets within the test.
        let engine = try await TestEngine.make { $0.inboxHeartbeatSeconds = 0.5 }
        let (tenant, key) = try await engine.createTenant(name: "Streams")
        // Fixed-width ids, so no id is a prefix of another in the titles the script matches.
        let ids = (0..<count).map { String(format: "sub-%05d", $0) }
        _ = try await engine.upsertSubscribers(tenantID: tenant.id, ids.map { SubscriberInput(id: $0) })
        var tokens: [String: String] = [:]
        for id in ids { tokens[id] = try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: id).token }
        let file = TestEngine.temporaryDirectory().appendingPathComponent("tokens.json")
        try JSONEncoder().encode(tokens).write(to: file)
        try await engine.withLiveServer { port in
            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/inbox_streams_check.py").path
            let run = try await ChildProcess.run(
                python: [script, "--api", "http://127.0.0.1:\(port)", "--key", key.key, "--tokens", file.path, "--timeout", "60"], timeout: 240)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))
            print("1,000 streams:", result.jsonText())
            #expect(result["connected"] == .number(Double(count)))
            #expect(result["round1_received"] == .number(Double(count)))
            #expect(result["dropped"] == .number(Double(count / 2)))
            #expect(result["round2_received"] == .number(Double(count - count / 2)))
            #expect(result["foreign"] == 0)
            #expect(result["duplicates"] == 0)
            // Each kept stream got exactly its two messages, nothing more.
            #expect(result["kept_messages"] == .number(Double(2 * (count - count / 2))))
            #expect(try await engine.eventually { engine.inboxHub.connectionCount == 0 })
        }
    }
}
