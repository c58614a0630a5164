import ArgumentParser
import Foundation
import Herald
import Logging

/// `herald bench`: runs named workloads against a Herald engine of its own (embedded SQLite in a temporary
/// folder, the catalog from herald.yml) and an SMTP sink of its own on loopback, and prints one JSON line
/// per workload plus a human summary.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure Herald: run workloads and print their figures.",
        discussion: """
            Workloads: \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", ")).
            Each prints one JSON line on standard output; progress goes to standard error.
            Build with `swift build -c release` first for figures worth quoting.
            """)

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Run every workload.")
    var all = false

    @Option(name: .customLong("workload"), help: "A workload to run (repeatable).")
    var workloads: [BenchWorkload] = []

    @Option(name: .long, help: "email-bulk: subscribers, one payment_due trigger each (10% opt out of email).")
    var subscribers = 10_000

    @Option(name: .long, help: "inapp-fanout and backlog: members of the topic.")
    var members = 1_000_000

    @Option(
        name: .long,
        help: "Connections: for ingest, the client's keep-alive HTTP connections (default 16); for the others, the SMTP connections the pool may open to the sink (default 4).")
    var connections: Int?

    @Option(name: .customLong("bulk-triggers"), help: "ingest: triggers sent in bulk requests of 1,000.")
    var bulkTriggers = 200_000

    @Option(name: .customLong("single-triggers"), help: "ingest: triggers sent one per request.")
    var singleTriggers = 20_000

    @Option(
        name: .customLong("alert-seconds"),
        help: "critical-under-load and critical-behind-email: longest time to keep sending alerts while the backlog drains.")
    var alertSeconds = 180.0

    @Option(name: .long, help: "critical-behind-email: low-priority emails queued ahead of the alerts.")
    var backlog = 10_000

    @Option(name: .customLong("smtp-delay-ms"), help: "critical-behind-email: milliseconds the bench's SMTP sink takes over each message.")
    var smtpDelayMs = 20.0

    /// Each option out of its range is named on its own, before anything starts.
    func validate() throws {
        guard all || !workloads.isEmpty else {
            throw ValidationError("name a --workload (\(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", "))) or --all")
        }
        let problems = [
            subscribers >= 10 ? nil : "--subscribers must be at least 10",
            members >= 10 ? nil : "--members must be at least 10",
            (1...64).contains(connections ?? 1) ? nil : "--connections must be 1 to 64",
            bulkTriggers >= 1000 ? nil : "--bulk-triggers must be at least 1000",
            singleTriggers >= 1 ? nil : "--single-triggers must be at least 1",
            alertSeconds >= 1 ? nil : "--alert-seconds must be at least 1",
            (10...1_000_000).contains(backlog) ? nil : "--backlog must be 10 to 1,000,000",
            (0...10_000).contains(smtpDelayMs) ? nil : "--smtp-delay-ms must be 0 to 10,000",
        ].compactMap { $0 }
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
    }

    func run() async throws {
        let chosen = all ? BenchWorkload.allCases : workloads
        var configuration = try common.load()
        let needed = chosen.flatMap(\.eventTypes).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let missing = needed.filter { key in !configuration.eventTypes.contains { $0.key == key } }
        guard missing.isEmpty else {
            throw ValidationError(
                "the bench triggers the example catalog's event types, and \(missing.joined(separator: ", ")) "
                    + "\(missing.count == 1 ? "is" : "are") not in \(configuration.configFile ?? "the configuration (no herald.yml here)"): "
                    + "run it in the repository's folder, or give its herald.yml with --config")
        }
        if chosen.count > 1 {
            // Each workload in a process of its own: memory figures (peak RSS, RSS at rest) would
            // otherwise include what earlier workloads left in the allocator.
            var summaries: [String] = []
            for workload in chosen { summaries.append(try runInChildProcess(workload)) }
            FileHandle.standardError.write(Data(("\n" + summaries.joined(separator: "\n") + "\n").utf8))
            return
        }
        configuration.logLevel = "warning"
        let runner = BenchRunner(base: configuration, connections: connections ?? 4)
        let result: BenchResult
        switch chosen[0] {
        case .idle: result = try await runner.idle()
        case .emailBulk: result = try await runner.emailBulk(subscribers: subscribers)
        case .inappFanout: result = try await runner.inAppFanout(members: members)
        case .backlog: result = try await runner.backlog(members: members)
        case .ingest: result = try await runner.ingest(bulk: bulkTriggers, single: singleTriggers, connections: connections ?? 16)
        case .criticalUnderLoad: result = try await runner.criticalUnderLoad(members: members, maxSeconds: alertSeconds)
        case .criticalBehindEmail:
            result = try await runner.criticalBehindEmail(backlog: backlog, delayMs: smtpDelayMs, maxSeconds: alertSeconds)
        }
        FileHandle.standardOutput.write(Data((result.jsonLine + "\n").utf8))
        FileHandle.standardError.write(Data(("\n" + result.summary + "\n").utf8))
    }

    /// Runs one workload as `herald bench --workload NAME` with the same options, passing its JSON line
    /// through; answers its summary line.
    func runInChildProcess(_ workload: BenchWorkload) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        var arguments = ["bench", "--workload", workload.rawValue]
        if let config = common.config { arguments += ["--config", config] }
        arguments += [
            "--subscribers", "\(subscribers)", "--members", "\(members)", "--bulk-triggers", "\(bulkTriggers)",
            "--single-triggers", "\(singleTriggers)", "--alert-seconds", "\(alertSeconds)", "--backlog", "\(backlog)", "--smtp-delay-ms", "\(smtpDelayMs)",
        ]
        if let connections { arguments += ["--connections", "\(connections)"] }
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Progress goes on to our standard error as it comes; the summary is its last line.
        var errorText = Data()
        let errorHandle = errors.fileHandleForReading
        while true {
            let chunk = errorHandle.availableData
            if chunk.isEmpty { break }
            errorText.append(chunk)
            FileHandle.standardError.write(chunk)
        }
        let line = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("workload \(workload.rawValue) failed (exit \(process.terminationStatus))")
        }
        FileHandle.standardOutput.write(line)
        let lines = String(decoding: errorText, as: UTF8.self).split(separator: "\n")
        return lines.last.map(String.init) ?? workload.rawValue
    }
}

enum BenchWorkload: String, CaseIterable, ExpressibleByArgument {
    case emailBulk = "email-bulk"
    case inappFanout = "inapp-fanout"
    case ingest
    case criticalUnderLoad = "critical-under-load"
    case criticalBehindEmail = "critical-behind-email"
    case backlog
    case idle

    /// The example catalog's event types the workload triggers (the repository's herald.yml): checked before a
    /// workload starts, so a bench run elsewhere stops at once, naming them, not after its setup.
    var eventTypes: [String] {
        switch self {
        case .emailBulk: ["payment_due"]
        case .inappFanout, .ingest, .backlog: ["announcement_posted"]
        case .criticalUnderLoad, .criticalBehindEmail: ["announcement_posted", "emergency_alert"]
        case .idle: []
        }
    }
}

/// One workload's figures.
struct BenchResult {
    var workload: String
    var figures: [(String, Double)]
    var summary: String

    var jsonLine: String {
        // The version and commit, so a figure can be tied to the code that produced it.
        var object: [String: JSONValue] = [
            "workload": .string(workload), "version": .string(HeraldVersion.number), "commit": .string(HeraldVersion.commit),
        ]
        for (name, value) in figures { object[name] = .number((value * 100).rounded() / 100) }
        return JSONValue.object(object).jsonText()
    }
}
