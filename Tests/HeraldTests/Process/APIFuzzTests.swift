import Foundation
import Testing

/// The HTTP API under a schema-driven fuzz: `scripts/fuzz_api.py` starts the built `herald` on a free loopback port
/// with a temporary SQLite file, creates a tenant, a subscriber and its token through the operator key, and runs
/// schemathesis over every operation of `/openapi.json` (fixed seed, bounded cases). Any 5xx, any crash, any
/// status, content type, header or body the document does not describe fails it, with a curl command per failure.
///
/// Needs schemathesis (`python3 -m pip install schemathesis==4.32.5`); without it the test does not run, unless
/// `HERALD_REQUIRE_FUZZ=1` (set by CI), which makes its absence a failure.
@Suite("Schema-driven fuzz of the HTTP API")
struct APIFuzzTests {
    static let required = ProcessInfo.processInfo.environment["HERALD_REQUIRE_FUZZ"] == "1"

    static let schemathesisInstalled: Bool =
        (try? ChildProcess.runSynchronously(python: ["-c", "import schemathesis"], timeout: 60).status == 0) ?? false

    @Test(
        "schemathesis over every operation finds no 5xx, no crash and no answer the document does not describe",
        .enabled(if: required || schemathesisInstalled, "schemathesis is not installed; HERALD_REQUIRE_FUZZ=1 makes that a failure"),
        .timeLimit(.minutes(15)))
    func fuzzEveryOperation() async throws {
        try #require(Self.schemathesisInstalled, "schemathesis is not installed: python3 -m pip install schemathesis==4.32.5")
        let binary = try ServerProcessTests.ProcessHarness.heraldBinary()
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/fuzz_api.py").path
        let result = try await ChildProcess.run(python: [script, "--herald", binary.path], timeout: 840)
        let output = String(decoding: result.output, as: UTF8.self)
        if let summary = output.split(separator: "\n").last(where: { $0.hasPrefix("fuzz: ") }) { print("[fuzz] \(summary)") }
        #expect(result.status == 0, "scripts/fuzz_api.py failed:\n\(output.suffix(30_000))\n\(result.errorOutput.suffix(4000))")
    }
}
