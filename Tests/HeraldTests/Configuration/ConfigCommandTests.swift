import Foundation
import Testing

@testable import Herald

/// `herald config` and `herald config check`, run as the built binary: the shipped `herald.yml` is sound,
/// a misspelt key is named with the key it was meant to be, and the effective configuration shows where
/// each value came from without showing a secret.
@Suite("herald config")
struct ConfigCommandTests {
    struct Run {
        var status: Int32
        var output: String
        var errorOutput: String
    }

    /// Runs the binary with `arguments` and only `environment` (plus PATH), at most 60 seconds.
    static func herald(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) async throws -> Run {
        let process = Process()
        process.executableURL = try ServerProcessTests.ProcessHarness.heraldBinary()
        process.arguments = arguments
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 }
        process.currentDirectoryURL = directory ?? TestEngine.temporaryDirectory()
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                Issue.record("herald \(arguments.joined(separator: " ")) ran for more than 60 s")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            errorOutput: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    static var shippedFile: String { TestEngine.repositoryRoot.appendingPathComponent("herald.yml").path }

    @Test("config check passes the shipped herald.yml, which is the example catalog")
    func shippedFileIsSound() async throws {
        #expect(HeraldConfiguration.problems(inFile: Self.shippedFile).isEmpty)
        let shipped = try HeraldConfiguration.load(file: Self.shippedFile, environment: [:])
        #expect(shipped.eventTypes.count >= 17, "herald.yml is not the shipped example catalog")
        let run = try await Self.herald(["config", "check", "--config", Self.shippedFile])
        #expect(run.status == 0, "\(run.errorOutput)")
        #expect(run.output == "\(Self.shippedFile): OK\n")
    }

    @Test("config check names each misspelt key with the one it was meant to be, a wrong type and a number out of bounds, and exits 1")
    func misspeltKeys() async throws {
        let path = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml").path
        try """
        server:
          hots: 127.0.0.1
          port: 70000
        dispach:
          workers: 2
        email:
          smtp:
            host: mail.example.com
            prot: 2525
        outbound:
          allowed_hosts: hooks.internal
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let problems = HeraldConfiguration.problems(inFile: path)
        let expected = [
            "\(path): dispach: is not a known field (did you mean 'dispatch'?)",
            "\(path): server.hots: is not a known field (did you mean 'host'?)",
            "\(path): email.smtp.prot: is not a known field (did you mean 'port'?)",
            "\(path): outbound.allowed_hosts: must be a list of strings",
            "\(path): server.port: must be a whole number from 0 to 65535",
        ]
        for line in expected { #expect(problems.contains { $0.hasPrefix(line) }, "\(line) is not in \(problems)") }
        let run = try await Self.herald(["config", "check", "--config", path])
        #expect(run.status == 1)
        #expect(run.errorOutput.hasPrefix("\(path): \(problems.count) problems\n"), "\(run.errorOutput)")
        for line in expected { #expect(run.errorOutput.contains(line), "\(run.errorOutput)") }
        // serve refuses the same file, naming the misspelt key.
        let serve = try await Self.herald(["serve", "--config", path])
        #expect(serve.status != 0)
        #expect(serve.errorOutput.contains("did you mean 'dispatch'?"), "\(serve.errorOutput)")
    }

    @Test("config prints each key's value in force and its source: a flag, a variable (new or older name), the file, or the default")
    func effectiveConfiguration() async throws {
        let run = try await Self.herald(
            ["config", "--config", Self.shippedFile, "--role", "api"],
            environment: ["HERALD_PORT": "9091", "HERALD_DISPATCH_CRITICAL_BATCH_SIZE": "7", "HERALD_ADMIN_KEY": "op-key-123"])
        #expect(run.status == 0, "\(run.errorOutput)")
        let rows = Dictionary(
            run.output.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                return (fields[0], Array(fields.dropFirst()))
            }
        ) { first, _ in first }
        #expect(rows.count == ConfigurationKey.all.count)
        #expect(rows["server.port"] == ["9091", "HERALD_PORT"])
        #expect(rows["dispatch.critical_batch_size"] == ["7", "HERALD_DISPATCH_CRITICAL_BATCH_SIZE"])
        #expect(rows["admin_key"] == ["********", "HERALD_ADMIN_KEY"])
        #expect(rows["role"] == ["api", "--role"])
        #expect(rows["default_locale"] == ["en", Self.shippedFile])
        #expect(rows["log_level"] == ["info", "default"])
        #expect(!run.output.contains("op-key-123"))
    }

    @Test("config keys prints README's table")
    func keys() async throws {
        let run = try await Self.herald(["config", "keys"])
        #expect(run.status == 0)
        #expect(run.output == ConfigurationKey.referenceTable + "\n")
    }
}

@Suite("Did you mean")
struct SpellingSuggestionTests {
    @Test(
        arguments: [
            ("hots", ["host", "port"], "host"), ("dispach", ["dispatch", "database"], "dispatch"), ("prot", ["host", "port"], "port"),
            ("lease_secnods", ["lease_seconds", "batch_size"], "lease_seconds"), ("xyz", ["host", "port"], nil),
            ("allowed_host", ["allowed_hosts", "allow_private_networks"], "allowed_hosts"),
        ] as [(String, [String], String?)])
    func closest(_ name: String, _ candidates: [String], _ expected: String?) {
        #expect(SpellingSuggestion.closest(to: name, among: candidates) == expected)
    }
}
