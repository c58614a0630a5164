import Foundation
import Testing

/// The README's walk-through, run as written (bash and curl) against the real binary on embedded defaults:
/// it must work, and its email must land in the outbox as a readable `.eml` file.
@Suite("README walk-through")
struct ReadmeWalkthroughTests {
    typealias Harness = ServerProcessTests.ProcessHarness

    /// The first ```sh block after the walk-through heading.
    static func walkthroughScript() throws -> String {
        let readme = try String(contentsOf: Harness.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let heading = readme.range(of: "## Five-minute walk-through"),
            let open = readme.range(of: "```sh\n", range: heading.upperBound..<readme.endIndex),
            let close = readme.range(of: "\n```", range: open.upperBound..<readme.endIndex)
        else { throw ServerProcessTests.HarnessError("README.md has no walk-through shell block") }
        return String(readme[open.upperBound..<close.lowerBound])
    }

    @Test(.timeLimit(.minutes(2)))
    func theWalkthroughRunsAndItsEmailLandsInTheOutbox() async throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        let server = try await harness.startServer(name: "readme")
        var script = try Self.walkthroughScript()
        #expect(script.contains("H=http://127.0.0.1:8080") && script.contains("dev-admin-key"))
        script = script.replacingOccurrences(of: "H=http://127.0.0.1:8080", with: "H=http://127.0.0.1:\(server.port)")
            .replacingOccurrences(of: "dev-admin-key", with: Harness.adminKey)
        let output = try Self.bash("set -e\n" + script, in: harness.directory)
        #expect(output.status == 0, "\(output.text)")
        #expect(output.text.contains("\"suppressed\""), "step 5 shows chloe's suppressed in-app message")

        let outbox = harness.directory.appendingPathComponent("outbox")
        let files = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
        #expect(files.count == 3, "one email each for ana, ben and chloe")
        let check = try Self.bash(
            """
            python3 - "$@" <<'PY'
            import email, email.policy, sys, glob
            for path in sorted(glob.glob(sys.argv[1] + "/*.eml")):
                with open(path, "rb") as f:
                    m = email.message_from_binary_file(f, policy=email.policy.default)
                assert not m.defects, m.defects
                text = m.get_body(("plain",)).get_content()
                html = m.get_body(("html",)).get_content()
                print(m["To"].addresses[0].addr_spec, "|", m["Subject"], "|", "10:30" in text and "10:30" in html, "|", bool(m["List-Unsubscribe"]))
            PY
            """, in: harness.directory, arguments: [outbox.path])
        #expect(check.status == 0, "\(check.text)")
        for who in ["ana", "ben", "chloe"] {
            #expect(check.text.contains("\(who)@example.com | Your DHL parcel is at the front desk | True | True"), "\(check.text)")
        }
    }

    static func bash(_ script: String, in directory: URL, arguments: [String] = []) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, "bash"] + arguments
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent("bash-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try? handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
