import Foundation
import Herald
import Testing

/// The OpenAPI document is a valid OpenAPI 3.1 description (checked by `openapi-spec-validator`, the reference
/// validator), is served the same as JSON and as YAML, and uses only the schema keywords the test suite's conformance
/// check understands, so every body the suite exchanges is really held to it.
///
/// Needs `python3 -m pip install openapi-spec-validator` (scripts/test.sh installs it).
@Suite("OpenAPI document validation")
struct OpenAPIValidationTests {
    static let file = TestEngine.repositoryRoot.appendingPathComponent("Sources/HeraldServer/Resources/openapi.json")

    /// Runs openapi-spec-validator on `path` and fails with its report unless it says the document is valid.
    static func expectValid(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await ChildProcess.run(
            python: ["-m", "openapi_spec_validator", "--schema", "3.1", "--validation-errors", "all", "--subschema-errors", "all", path],
            timeout: 120)
        let output = String(decoding: result.output, as: UTF8.self) + result.errorOutput
        #expect(
            result.status == 0,
            "openapi-spec-validator rejects \(path) (python3 -m pip install openapi-spec-validator if it is missing):\n\(output.suffix(20_000))",
            sourceLocation: sourceLocation)
    }

    @Test("openapi.json validates against the OpenAPI 3.1 schema")
    func validatesAgainstTheSchema() async throws {
        try await Self.expectValid(Self.file.path)
    }

    /// What the server serves (and schemathesis fuzzes, scripts/fuzz_api.py) is what is validated here and reviewed.
    @Test("GET /openapi.json serves the file in the repository, byte for byte")
    func servesTheFile() async throws {
        let engine = try await TestEngine.make()
        let file = try String(contentsOf: Self.file, encoding: .utf8)
        try await engine.testAPI { api in
            let served = try await api.send(.get, "/openapi.json")
            #expect(served.status == .ok)
            #expect(served.text == file, "the binary embeds another openapi.json than the repository's: rebuild")
        }
    }

    @Test("GET /openapi.yaml serves the document of GET /openapi.json, as YAML that loads to the same value and validates")
    func servesYAML() async throws {
        let engine = try await TestEngine.make()
        let folder = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await engine.testAPI { api in
            let json = try await api.send(.get, "/openapi.json")
            let yaml = try await api.send(.get, "/openapi.yaml")
            #expect(yaml.status == .ok)
            #expect(yaml.headers[.contentType] == "application/yaml")
            #expect(!yaml.text.hasPrefix("{"), "the YAML is block style, not JSON in disguise")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let jsonFile = folder.appendingPathComponent("openapi.json")
            let yamlFile = folder.appendingPathComponent("openapi.yaml")
            try Data(json.text.utf8).write(to: jsonFile)
            try Data(yaml.text.utf8).write(to: yamlFile)
            // PyYAML reads YAML 1.1, the strictest reader of plain scalars (`yes`, `2026-01-01`, `0777`): what it reads
            // back as the JSON's value, any YAML reader does.
            let compare = try await ChildProcess.run(
                python: [
                    "-c",
                    "import json, sys, yaml; same = json.load(open(sys.argv[1])) == yaml.safe_load(open(sys.argv[2])); print(same); sys.exit(0 if same else 1)",
                    jsonFile.path, yamlFile.path,
                ], timeout: 60)
            #expect(compare.status == 0, "/openapi.yaml does not load to /openapi.json's value: \(compare.errorOutput.suffix(4000))")
            try await Self.expectValid(yamlFile.path)
        }
    }

    @Test("every schema keyword in the document is one the conformance check validates or may ignore")
    func usesOnlyCheckedKeywords() throws {
        let conformance = try OpenAPIConformance.shared.get()
        var unknown: Set<String> = []
        func visit(schema: JSONValue) {
            guard case .object(let rules) = schema else { return }
            unknown.formUnion(rules.keys.filter { !JSONSchemaValidator.knownKeywords.contains($0) })
            for keyword in ["properties"] { rules[keyword]?.objectValue?.values.forEach(visit(schema:)) }
            for keyword in ["items", "additionalProperties", "propertyNames", "not"] { rules[keyword].map(visit(schema:)) }
            for keyword in ["allOf", "anyOf", "oneOf"] {
                if case .array(let schemas)? = rules[keyword] { schemas.forEach(visit(schema:)) }
            }
        }
        /// Every `schema` member anywhere in the document outside `components/schemas`, which are visited as schemas.
        func visit(document node: JSONValue) {
            switch node {
            case .object(let members):
                for (key, value) in members { if key == "schema" { visit(schema: value) } else { visit(document: value) } }
            case .array(let elements): elements.forEach(visit(document:))
            default: break
            }
        }
        conformance.document["components"]?["schemas"]?.objectValue?.values.forEach(visit(schema:))
        visit(document: conformance.document["paths"] ?? .null)
        visit(document: conformance.document["components"]?["responses"] ?? .null)
        visit(document: conformance.document["webhooks"] ?? .null)
        #expect(unknown.sorted() == [], "keywords JSONSchemaValidator would report as unchecked")
        #expect(conformance.operationCount > 90)
    }

    /// Exchanges made up by hand against the real document, each departing from it in one way (nil: none).
    static let departures: [(String, OpenAPIConformance.Exchange, String?)] = [
        ("a conforming answer", exchange("GET", "/healthz", 200, json: ["status": "ok"]), nil),
        ("a status the operation does not list", exchange("GET", "/healthz", 418, json: ["status": "ok"]), "status is not documented"),
        (
            "a media type the status does not list", exchange("GET", "/healthz", 200, "text/plain", text: "ok"),
            "content type text/plain is not documented"
        ),
        ("a required property missing", exchange("GET", "/healthz", 200, json: [:]), "the required property `status` is missing"),
        ("a constant broken", exchange("GET", "/healthz", 200, json: ["status": "down"]), #"is not "ok""#),
        ("a body that is not JSON", exchange("GET", "/healthz", 200, text: "ok"), "is not JSON"),
        (
            "a problem without its detail",
            exchange("GET", "/v1/subscribers/alice", 404, "application/problem+json", json: notFound), "the required property `detail` is missing"
        ),
        (
            "an accepted request body of the wrong shape",
            exchange("PUT", "/v1/subscribers/alice", 200, json: [:], request: ["name": 5]), "request body (accepted) at /name"
        ),
        (
            "a refused request body of the wrong shape",
            exchange("PUT", "/v1/subscribers/alice", 422, "application/problem+json", json: invalid, request: ["name": 5]), nil
        ),
        ("a path that is no operation", exchange("GET", "/console/nowhere", 200, "text/html", text: "<p>"), nil),
        // The concrete path /v1/events/bulk wins over /v1/events/{id}, and serves no GET: no operation, nothing to hold.
        ("a method a concrete path does not serve", exchange("GET", "/v1/events/bulk", 405, "application/problem+json", json: invalid), nil),
        ("a templated path", exchange("GET", "/v1/events/evt_1", 405, "application/problem+json", json: invalid), "status is not documented"),
    ]

    static let notFound: JSONValue = ["type": "urn:herald:problem:not-found", "title": "Not found", "status": 404]
    static let invalid: JSONValue = ["type": "urn:herald:problem:invalid-request", "title": "Invalid", "status": 422, "detail": "name: a string"]

    static func exchange(
        _ method: String, _ target: String, _ status: Int, _ contentType: String = "application/json", json: JSONValue? = nil, text: String = "",
        request: JSONValue? = nil
    ) -> OpenAPIConformance.Exchange {
        .init(
            method: method, target: target, requestContentType: request.map { _ in "application/json" }, requestBody: request?.jsonText(),
            status: status, responseContentType: contentType, responseBody: json?.jsonText() ?? text)
    }

    @Test("the conformance check finds each kind of departure from the document", arguments: departures)
    func findsDepartures(_ name: String, _ exchange: OpenAPIConformance.Exchange, _ expected: String?) throws {
        let violations = try OpenAPIConformance.shared.get().violations(of: exchange).map(\.description)
        if let expected {
            #expect(violations.contains { $0.contains(expected) }, "\(name): \(violations)")
        } else {
            #expect(violations == [], "\(name)")
        }
    }

    /// Small schemas, a value and the rule it should break (nil: the value matches).
    static let schemaCases: [(JSONValue, JSONValue, String?)] = [
        (["type": ["string", "null"]], nil, nil),
        (["type": ["string", "null"]], 3, "type"),
        (["type": "integer"], 2.5, "type"),
        (["type": "integer"], 2, nil),
        (["enum": ["a", "b"]], "c", "enum"),
        (["type": "object", "properties": ["a": ["type": "string"]], "additionalProperties": false], ["b": 1], "additionalProperties"),
        (["type": "object", "additionalProperties": ["type": "integer"]], ["b": "x"], "type"),
        // A read-only property is the server's to send: a request need not carry it, even where it is required.
        (["type": "object", "required": ["id"], "properties": ["id": ["type": "string", "readOnly": true]]], [:], nil),
        (["type": "object", "required": ["id"], "properties": ["id": ["type": "string"]]], [:], "required"),
        (["type": "array", "items": ["type": "string"], "maxItems": 1], ["a", "b"], "maxItems"),
        (["type": "string", "minLength": 2, "maxLength": 3], "é", "minLength"),
        (["type": "string", "pattern": "^[a-z_]+$"], "Bad-Name", "pattern"),
        (["type": "string", "format": "date-time"], "2026-12-05T11:30:00Z", nil),
        (["type": "string", "format": "date-time"], "yesterday", "format"),
        (["type": "number", "minimum": 1, "maximum": 10], 11, "maximum"),
        (["type": "number", "exclusiveMinimum": 0], 0, "exclusiveMinimum"),
        (["oneOf": [["type": "string"], ["type": "string", "maxLength": 5]]], "abc", "oneOf"),
        (["anyOf": [["type": "string"], ["type": "integer"]]], true, "anyOf"),
        (["allOf": [["type": "object"], ["required": ["a"]]]], [:], "required"),
        (["not": ["const": "x"]], "x", "not"),
        (["type": "object", "propertyNames": ["pattern": "^[a-z]+$"]], ["A": 1], "pattern"),
        (["$ref": "#/components/schemas/Problem"], ["type": "t", "title": "t", "status": 400, "detail": "d"], nil),
        (["$ref": "#/components/schemas/Nowhere"], 1, "$ref"),
        (["type": "string", "if": ["const": "a"]], "a", "if"),
    ]

    @Test("the schema validator applies each keyword the document uses", arguments: schemaCases)
    func validatorKeywords(_ schema: JSONValue, _ value: JSONValue, _ keyword: String?) throws {
        let validator = JSONSchemaValidator(document: try OpenAPIConformance.shared.get().document)
        let found = validator.validate(value, against: schema, schemaPath: "#", direction: .request)
        if let keyword {
            #expect(found.contains { $0.keyword == keyword }, "\(schema.jsonText()) with \(value.jsonText()): \(found)")
        } else {
            #expect(found.isEmpty, "\(schema.jsonText()) with \(value.jsonText()): \(found)")
        }
    }
}
