import Foundation

/// What a schemathesis run found, read from its NDJSON event logs (`--report ndjson`, kept by
/// `scripts/fuzz_api.py --keep-reports`): cases per operation, each check's failures, and the 5xx answers.
///
/// Read from schemathesis 4.32.5's `ScenarioFinished` events: `recorder.label` names the operation
/// (`GET /v1/subscribers/{id}`), `recorder.cases` holds the cases, `recorder.checks` each case's check results
/// (`name`, `status`), `recorder.interactions` each case's request and response.
struct SchemathesisReport {
    /// Cases run per operation label.
    var cases: [String: Int] = [:]
    /// Failed results per check name (`not_a_server_error`, `response_schema_conformance` …).
    var failures: [String: Int] = [:]
    /// Passed results per check name, so a check that never ran shows as absent rather than as clean.
    var passes: [String: Int] = [:]
    /// Responses with a 5xx status, as `METHOD path → status`.
    var serverErrors: [String] = []

    var caseCount: Int { cases.values.reduce(0, +) }
    /// The operations at least one case reached.
    var operations: Set<String> { Set(cases.filter { $0.value > 0 }.keys) }

    /// Reads every `*.ndjson` file in `folder`.
    init(folder: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).filter { $0.pathExtension == "ndjson" }
        for file in files {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                guard let event = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let finished = event["ScenarioFinished"] as? [String: Any], let recorder = finished["recorder"] as? [String: Any],
                    let label = recorder["label"] as? String
                else { continue }
                cases[label, default: 0] += (recorder["cases"] as? [String: Any])?.count ?? 0
                for results in (recorder["checks"] as? [String: [[String: Any]]] ?? [:]).values {
                    for result in results {
                        guard let name = result["name"] as? String else { continue }
                        if result["status"] as? String == "success" { passes[name, default: 0] += 1 } else { failures[name, default: 0] += 1 }
                    }
                }
                for interaction in (recorder["interactions"] as? [String: [String: Any]] ?? [:]).values {
                    guard let response = interaction["response"] as? [String: Any], let status = response["status_code"] as? Int, status >= 500 else {
                        continue
                    }
                    let request = interaction["request"] as? [String: Any]
                    serverErrors.append("\(request?["method"] as? String ?? "?") \(request?["uri"] as? String ?? label) → \(status)")
                }
            }
        }
    }
}
