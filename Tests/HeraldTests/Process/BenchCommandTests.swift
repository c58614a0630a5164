import Foundation
import Herald
import Testing

/// `herald bench` as a user runs it: every workload at a small size, each printing one JSON line whose
/// figures add up (how many emails the sink received, how many messages were queued or delivered).
@Suite("herald bench")
struct BenchCommandTests {
    @Test("a bench with a catalog that lacks its event types stops at once, naming them and the file")
    func aCatalogWithoutTheBenchsEventTypesIsNamedBeforeAnySetup() async throws {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("herald.yml")
        try Data("log_level: warning\n".utf8).write(to: config)
        let result = try await ChildProcess.run(
            executable: binary, arguments: ["bench", "--config", config.path, "--workload", "critical-under-load", "--members", "1000000"], timeout: 30)
        let errors = result.errorOutput
        #expect(result.status != 0)
        #expect(errors.contains("announcement_posted, emergency_alert are not in \(config.path)"), "\(errors)")
        #expect(!errors.contains("setup"), "nothing was set up first")
    }

    @Test("an option out of its range is named on its own, and nothing runs")
    func anOptionOutOfRangeIsNamed() async throws {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let cases: [([String], String)] = [
            (["--workload", "ingest", "--connections", "0"], "--connections must be 1 to 64"),
            (["--workload", "email-bulk", "--subscribers", "3"], "--subscribers must be at least 10"),
            (["--workload", "critical-behind-email", "--smtp-delay-ms", "nan"], "--smtp-delay-ms must be 0 to 10,000"),
            ([], "name a --workload"),
        ]
        for (arguments, message) in cases {
            let result = try await ChildProcess.run(executable: binary, arguments: ["bench"] + arguments, timeout: 30)
            let errors = result.errorOutput
            #expect(result.status == 64, "\(arguments)")
            #expect(errors.contains(message), "\(arguments): \(errors)")
            #expect(errors.components(separatedBy: "must be").count == (message.contains("must be") ? 2 : 1), "only the option at fault: \(errors)")
            #expect(errors.contains("herald bench"), "the bench's own usage: \(errors)")
        }
    }

    @Test("ingest over one connection reports the rate and the server's CPU time per trigger, read from its own process")
    func ingestOverOneConnectionReportsServerCPUPerTrigger() async throws {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let config = ServerProcessTests.ProcessHarness.repositoryRoot.appendingPathComponent("herald.yml").path
        let arguments = [
            "bench", "--config", config, "--workload", "ingest", "--connections", "1", "--bulk-triggers", "2000", "--single-triggers", "100",
        ]
        let result = try await ChildProcess.run(executable: binary, arguments: arguments, timeout: 120)
        #expect(result.status == 0, "\(result.errorOutput)")
        let line = try #require(String(decoding: result.output, as: UTF8.self).split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }.first)
        #expect(line["workload"]?.stringValue == "ingest" && line["connections"]?.doubleValue == 1)
        #expect(line["bulk_triggers"]?.doubleValue == 2000 && line["single_triggers"]?.doubleValue == 100)
        for phase in ["bulk", "single"] {
            let rate = line["\(phase)_triggers_per_second"]?.doubleValue ?? 0
            let cpu = line["\(phase)_server_cpu_ms_per_trigger"]?.doubleValue ?? 0
            #expect(rate > 0 && cpu > 0 && cpu < 1000, "\(phase): \(rate)/s, \(cpu) ms of server CPU a trigger")
        }
        #expect(result.errorOutput.contains("over 1 keep-alive connection,"), "\(result.errorOutput)")
    }

    @Test(.timeLimit(.minutes(4)))
    func everyWorkloadRunsAndReportsFiguresThatAddUp() async throws {
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let config = ServerProcessTests.ProcessHarness.repositoryRoot.appendingPathComponent("herald.yml").path
        let arguments = [
            "bench", "--config", config, "--all", "--subscribers", "200", "--members", "500", "--bulk-triggers", "2000", "--single-triggers", "200",
            "--backlog", "500", "--smtp-delay-ms", "2",
        ]
        let result = try await ChildProcess.run(executable: binary, arguments: arguments, timeout: 210)
        #expect(result.status == 0, "\(result.errorOutput)")
        let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let byWorkload = Dictionary(lines.compactMap { line in line["workload"]?.stringValue.map { ($0, line) } }, uniquingKeysWith: { $1 })
        #expect(Set(byWorkload.keys) == ["email-bulk", "inapp-fanout", "ingest", "critical-under-load", "critical-behind-email", "backlog", "idle"])
        #expect(lines.allSatisfy { $0["commit"]?.stringValue?.isEmpty == false }, "each line names the commit it was built from")

        let email = try #require(byWorkload["email-bulk"])
        #expect(email["emails"]?.doubleValue == 180, "10% of 200 subscribers opted out of email")
        #expect((email["connections"]?.doubleValue ?? 99) <= 4)
        #expect((email["emails_per_second"]?.doubleValue ?? 0) > 0 && (email["p99_ms"]?.doubleValue ?? -1) >= (email["p50_ms"]?.doubleValue ?? 0))
        #expect(byWorkload["inapp-fanout"]?["messages"]?.doubleValue == 495, "1% of 500 members opted out of in-app")
        #expect(byWorkload["backlog"]?["queued"]?.doubleValue == 495)
        #expect((byWorkload["idle"]?["rss_mb"]?.doubleValue ?? 0) > 0)
        let ingest = try #require(byWorkload["ingest"])
        #expect(ingest["bulk_triggers"]?.doubleValue == 2000 && ingest["single_triggers"]?.doubleValue == 200)
        #expect((ingest["bulk_triggers_per_second"]?.doubleValue ?? 0) > 0 && (ingest["single_triggers_per_second"]?.doubleValue ?? 0) > 0)
        #expect(ingest["connections"]?.doubleValue == 16)
        #expect((ingest["bulk_server_cpu_ms_per_trigger"]?.doubleValue ?? 0) > 0 && (ingest["single_server_cpu_ms_per_trigger"]?.doubleValue ?? 0) > 0)
        let critical = try #require(byWorkload["critical-under-load"])
        #expect((critical["alerts"]?.doubleValue ?? 0) >= 1, "at least one alert went out while the backlog drained")
        for figure in ["push", "smtp"] {
            let p50 = critical["\(figure)_p50_ms"]?.doubleValue ?? -1
            let p99 = critical["\(figure)_p99_ms"]?.doubleValue ?? -1
            #expect(p50 > 0 && p99 >= p50 && (critical["\(figure)_max_ms"]?.doubleValue ?? -1) >= p99, "\(figure) latencies are measured")
        }
        let behind = try #require(byWorkload["critical-behind-email"])
        #expect(behind["backlog"]?.doubleValue == 500 && (behind["alerts"]?.doubleValue ?? 0) >= 1, "alerts went out behind the backlog")
        #expect(
            (behind["smtp_p50_ms"]?.doubleValue ?? -1) > 0 && (behind["smtp_max_ms"]?.doubleValue ?? -1) >= (behind["smtp_p99_ms"]?.doubleValue ?? 0),
            "alert latencies to the SMTP sink are measured")
        #expect(result.errorOutput.contains("email-bulk:") && result.errorOutput.contains("idle:"), "the human summary goes to stderr")
    }
}
