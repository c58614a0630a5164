import Foundation
import Herald
import Testing

/// Three real `herald serve` processes on one PostgreSQL database, driven by `scripts/cluster_check.py`:
/// each node on a port of its own, one schema for all three (dropped afterwards), Postfix's smtp-sink as the
/// mail server. The script checks what the database and the sink hold, and prints its figures as JSON.
@Suite(
    "Three herald processes on one PostgreSQL", .serialized, .timeLimit(.minutes(15)),
    .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink"), "needs Postfix's smtp-sink"))
struct ClusterProcessTests {
    /// Runs one scenario of the script against the `herald` binary SwiftPM built; returns its JSON answer.
    static func check(_ scenario: String, _ options: [String], timeout: Double) async throws -> JSONValue {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/cluster_check.py").path
        let url = try #require(StoreBackend.postgresURL)
        let run = try await ChildProcess.run(
            python: [script, scenario, "--bin", binary.path, "--postgres-url", url, "--timeout", String(Int(timeout))] + options,
            timeout: timeout + 60)
        let output = String(decoding: run.output, as: UTF8.self)
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        print("[cluster] \(scenario): \(last)")
        #expect(run.status == 0, "cluster_check.py \(scenario) failed:\n\(run.errorOutput)\n\(last)")
        return try JSONValue.parse(last)
    }

    @Test(
        "100,000 in-app messages and 10,000 emails through three nodes: each delivered once, none lost; node B's live inbox shows node A's triggers; a per-minute schedule runs once in its minute"
    )
    func deliverOnceAcrossThreeNodes() async throws {
        let result = try await Self.check(
            // Twice this (200,000 and 20,000, the schedule watched for two minutes) took about 230 s alone on two cores in
            // a debug build and over 420 s beside the rest of the suite; half the load and one scheduled minute keep every
            // check (three nodes, one run of the minute) and CI's run short. `cluster_check.py deliver` with its defaults
            // runs the full size.
            "deliver", ["--members", "50000", "--emails", "10000", "--schedule-minutes", "1"], timeout: 600)
        #expect(result["in_app_delivered"] == 100_000)
        #expect(result["in_app_messages_with_two_delivered_attempts"] == 0)
        #expect(result["email_sent"] == 10_000)
        #expect(result["sink_messages"] == 10_000)
        #expect(result["sink_distinct_recipients"] == 10_000)
        #expect(result["sink_recipients_twice_or_more"] == 0)
        #expect(result["checks"]?["sse"] == true)
        #expect(result["checks"]?["schedule_once_per_minute"] == true)
    }

    @Test(
        "kill -9 of one of three nodes mid-run: the others take its claimed messages over as its lease ends and finish them; none lost, none twice in-app"
    )
    func killOneOfThree() async throws {
        let lease = 5.0
        let result = try await Self.check(
            "kill",
            [
                "--members", "20000", "--emails", "5000", "--lease", "\(Int(lease))", "--kill-at", "0.3",
                // What the killed node holds is email (in-app messages are delivered as they are planned, never
                // claimed), and the survivors' lanes are in the middle of email batches too: beside the load suites the
                // takeover came 8.85 s after the kill with a 5 s lease (a lane finishes the batch in hand first), and the killed
                // node's two batches of 500, sent behind the survivors' own to a sink that writes each to a file,
                // were finished 18.85 s after it.
                "--takeover-slack", "6", "--finish-slack", "30",
            ], timeout: 300)
        #expect(result["checks"]?["killed_node_held_claims"] == true)
        #expect(result["checks"]?["claims_finished"] == true, "every message the killed node had claimed was finished by the others")
        #expect(result["checks"]?["in_app_none_lost_none_twice"] == true)
        #expect(result["checks"]?["email_none_lost"] == true)
        #expect(result["in_app_delivered"] == 40_000)
        #expect(result["in_app_messages_with_two_delivered_attempts"] == 0)
        // Claims take expired leases before the queue, so the takeover does not wait for the backlog that was
        // due before the dead node's lease ended: the others claim its messages as the lease ends (plus the batch
        // in hand), and deliver them within the lease plus the time a batch of emails takes on a loaded machine.
        #expect(
            result["claims_taken_over_within_lease"] == true,
            "taken over \(String(describing: result["claims_taken_over_after_kill_seconds"])) s after the kill, lease \(lease) s")
        #expect(
            result["claims_finished_within_bound"] == true,
            "finished \(String(describing: result["claims_finished_after_kill_seconds"])) s after the kill, lease \(lease) s")
    }
}
