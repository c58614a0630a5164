import Foundation
import Herald
import Testing

/// Workflow runs on three real `herald serve` processes sharing one PostgreSQL database, driven by
/// `scripts/workflow_check.py` (which reuses `scripts/cluster_check.py`'s nodes, schema and smtp-sink): a topic of
/// 20,000 subscribers, one trigger of `send in_app → wait 2s → send email or in_app (first_success)`. The script
/// checks the database, the sink and the API, and prints its figures as JSON.
@Suite(
    "Workflow runs on three herald processes on one PostgreSQL", .serialized, .timeLimit(.minutes(8)),
    .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink"), "needs Postfix's smtp-sink"))
struct WorkflowClusterTests {
    static func check(_ scenario: String, _ options: [String], timeout: Double) async throws -> JSONValue {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/workflow_check.py").path
        let url = try #require(StoreBackend.postgresURL)
        let run = try await ChildProcess.run(
            python: [script, scenario, "--bin", binary.path, "--postgres-url", url, "--timeout", String(Int(timeout))] + options,
            timeout: timeout + 120)
        let output = String(decoding: run.output, as: UTF8.self)
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        print("[workflow-cluster] \(scenario): \(last)")
        #expect(run.status == 0, "workflow_check.py \(scenario) failed:\n\(run.errorOutput.suffix(4000))\n\(last)")
        return try JSONValue.parse(last)
    }

    @Test("three nodes on one PostgreSQL run 20,000 workflows: each step exactly once, each email received once")
    func twentyThousandWorkflowsOnThreeNodes() async throws {
        // Alone on two cores with a debug build: subscribers about 19 s, the runs 93 to 98 s, 135 to 152 s in all.
        let members = 20_000
        let result = try await Self.check("workflows", ["--members", String(members)], timeout: 300)
        let n = JSONValue(integerLiteral: members)
        let twice = JSONValue(integerLiteral: 2 * members)
        #expect(result["runs"] == n)
        #expect(result["runs_by_status"]?["completed.finished"] == n)
        #expect(result["runs_leased"] == 0)
        #expect(result["messages_by_step"]?["1/in_app/delivered"] == n)
        #expect(result["messages_by_step"]?["3/email/sent"] == n)
        #expect(result["message_keys_twice"] == 0)
        #expect(result["runs_without_both_messages"] == 0)
        #expect(result["attempts_per_message"]?["1"] == twice)
        #expect(result["messages_succeeding_twice"] == 0)
        #expect(result["second_send_before_wait_ended"] == 0)
        #expect(result["sink_messages"] == n)
        #expect(result["sink_distinct_recipients"] == n)
        #expect(result["sink_recipients_twice_or_more"] == 0)
        #expect(result["sink_missing_recipients"] == 0)
        for name in [
            "every_run_completed", "every_timeline_finished", "one_message_per_step", "one_attempt_per_message", "no_wait_cut_short",
            "sink_each_recipient_once", "api_counts", "api_runs", "runs_advanced_by_several_nodes",
        ] {
            #expect(result["checks"]?[name] == true, "check \(name) failed")
        }
        print(
            "[workflow-cluster] runs finished in \(result["runs_finished_seconds"]?.doubleValue ?? -1) s; "
                + "claimed runs sampled by node: \(result["claimed_runs_sampled_by_node"]?.jsonText() ?? "-")")
    }
}
