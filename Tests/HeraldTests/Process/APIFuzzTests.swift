import Foundation
import Testing

/// The HTTP API under a schema-driven fuzz: `scripts/fuzz_api.py` starts the built `herald` on a free loopback port
/// with a temporary SQLite file, creates a tenant, a subscriber and its token through the operator key, and runs
/// schemathesis over every operation of the document the server serves at `/openapi.json` (the repository's
/// `Sources/HeraldServer/Resources/openapi.json`, compiled in; OpenAPIValidationTests checks they are the same bytes),
/// with a fixed seed and a bounded number of cases. Any 5xx, any crash, any status, content type, header or body the
/// document does not describe fails it, with a curl command per failure; the test reads schemathesis's event logs to
/// name each figure (cases, operations reached, failures per check) and to prove every documented operation was driven.
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
        let reports = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reports) }
        let result = try await ChildProcess.run(python: [script, "--herald", binary.path, "--keep-reports", reports.path], timeout: 840)
        let output = String(decoding: result.output, as: UTF8.self)
        if let summary = output.split(separator: "\n").last(where: { $0.hasPrefix("fuzz: ") }) { print("[fuzz] \(summary)") }
        #expect(result.status == 0, "scripts/fuzz_api.py failed:\n\(output.suffix(30_000))\n\(result.errorOutput.suffix(4000))")

        let report = try SchemathesisReport(folder: reports)
        let documented = try OpenAPIConformance.shared.get()
        print(
            "[fuzz] \(report.caseCount) cases over \(report.operations.count) of \(documented.operationCount) operations; failures by check: "
                + (report.failures.isEmpty
                    ? "none" : report.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        try #require(report.caseCount >= 2_000, "a bounded run of a few thousand cases")
        #expect(report.serverErrors == [], "5xx answers")
        for check in ["not_a_server_error", "status_code_conformance", "response_schema_conformance", "content_type_conformance"] {
            #expect((report.passes[check] ?? 0) > 0, "schemathesis never ran \(check)")
            #expect(report.failures[check, default: 0] == 0, "\(check) failed")
        }
        // schemathesis leaves out the operation at the URL it loaded the document from (it counts 102 of the 103).
        let unreached = documented.operationNames.subtracting(report.operations).subtracting(["GET /openapi.json"])
        #expect(unreached.sorted() == [], "documented operations no case reached")
    }
}
