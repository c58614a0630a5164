import Foundation
import Herald
import Testing

@Suite("Live inbox in a real browser (headless chromium)", .timeLimit(.minutes(4)))
struct BrowserInboxTests {
    @Test("a page on another origin shows each new message as it is triggered, and the right unread count after read-all in another tab")
    func chromiumSeesLiveInbox() async throws {
        let engine = try await TestEngine.make()
        let (tenant, key) = try await engine.createTenant(name: "Browser")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "reader"))
        let (token, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
        try await engine.withLiveServer { port in
            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/browser_inbox_check.py").path
            let run = try await ChildProcess.run(
                python: [script, "--api", "http://localhost:\(port)", "--key", key.key, "--subscriber", "reader", "--token", token],
                timeout: 120)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))
            let latencies = result["latencies_ms"]?.arrayElements.compactMap(\.doubleValue) ?? []
            #expect(latencies.count == 5)
            // The 100 ms target is measured and reported, not asserted: these bounds only catch a stream
            // that is not live at all (a poll or a reload would take seconds each time), with room for a
            // loaded machine running the whole suite, on both stores, in parallel on two cores (medians of
            // 1.8–2.2 s seen there; 11–41 ms on a quiet machine).
            let median = latencies.sorted()[latencies.count / 2]
            #expect(median < 3000, "trigger → shown in page, ms: \(latencies)")
            #expect(latencies.allSatisfy { $0 < 10000 }, "trigger → shown in page, ms: \(latencies)")
            print("browser latency trigger → page (ms):", latencies.map { Int($0.rounded()) })
            #expect(result["titles"]?.arrayElements.count == 5)
            #expect(result["unread_before"] == "5")
            #expect(result["read_all_status"] == 200)
            #expect(result["unread_after"] == "0")
            #expect(result["api_counts"]?["unread"] == 0)
            #expect(try await engine.inboxCounts(claims).unread == 0)
        }
    }
}
