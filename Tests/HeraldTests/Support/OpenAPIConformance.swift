import Foundation
import Herald
import Testing

/// Holds an HTTP exchange to the OpenAPI document (`Sources/HeraldServer/Resources/openapi.json`): the test suite's API
/// client passes every exchange through ``check(_:sourceLocation:)``, so a body the code sends that the document does not
/// describe fails the test that made it, and the document cannot drift from the code unnoticed.
///
/// For an exchange whose path matches a documented operation (templates like `/v1/subscribers/{id}` match any one
/// segment; a literal segment wins over a template):
/// - the status must be documented for the operation (exactly, as `4XX`, or under `default`);
/// - a body must have a media type the response lists, and a JSON body (`application/json`, `application/problem+json`)
///   must match that media type's schema; a response documented without content must have no body;
/// - a request body the server accepted (2xx) must match the operation's request body schema: a body the document
///   forbids but the server takes is drift (a body the server refuses is what hostile-input tests send on purpose).
///
/// Paths no operation matches (the console, the embeddable script, a test's deliberately unknown path) are not
/// checked, and neither are methods a documented path does not serve (they are answered 405 before any handler).
struct OpenAPIConformance: Sendable {
    /// The document, parsed once.
    let document: JSONValue
    private let operations: [Operation]

    /// One exchange as the client saw it.
    struct Exchange: Sendable {
        var method: String
        /// The request target as sent: path and optional query.
        var target: String
        var requestContentType: String?
        var requestBody: String?
        var status: Int
        var responseContentType: String?
        var responseBody: String
    }

    /// One way an exchange departs from the document.
    struct Violation: Sendable, CustomStringConvertible {
        /// `GET /v1/subscribers/{id}` for the matched operation.
        var operation: String
        var status: Int
        /// `request`, `response`, `status` or `content type`.
        var part: String
        var detail: String

        var description: String { "\(operation) → \(status): \(part) \(detail)" }
    }

    private struct Operation: Sendable {
        var method: String
        var template: String
        var segments: [String?]  // nil where the template has a parameter
        var pointer: String
        var definition: JSONValue
        var literalCount: Int { segments.count { $0 != nil } }
    }

    /// The suite-wide checker over the repository's document; a document that cannot be read fails every exchange.
    static let shared: Result<OpenAPIConformance, any Error> = Result {
        let file = TestEngine.repositoryRoot.appendingPathComponent("Sources/HeraldServer/Resources/openapi.json")
        return try OpenAPIConformance(document: JSONValue.parse(String(decoding: try Data(contentsOf: file), as: UTF8.self)))
    }

    init(document: JSONValue) {
        self.document = document
        var operations: [Operation] = []
        if case .object(let paths)? = document["paths"] {
            for (template, item) in paths {
                guard case .object(let methods) = item else { continue }
                for (method, definition) in methods where ["get", "put", "post", "patch", "delete", "head", "options"].contains(method) {
                    let segments = template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { segment in
                        segment.hasPrefix("{") && segment.hasSuffix("}") ? nil : String(segment)
                    }
                    operations.append(
                        Operation(
                            method: method.uppercased(), template: template, segments: segments,
                            pointer: "#/paths/\(JSONSchemaValidator.escape(template))/\(method)", definition: definition))
                }
            }
        }
        self.operations = operations
    }

    /// The number of operations the document describes.
    var operationCount: Int { operations.count }

    /// Each operation as `GET /v1/subscribers/{id}`, as schemathesis labels them.
    var operationNames: Set<String> { Set(operations.map { "\($0.method) \($0.template)" }) }

    /// The operation `method` on `target` reaches, if the document has one: `GET /v1/subscribers/{id}`.
    func operation(method: String, target: String) -> String? {
        find(method: method, target: target).map { "\($0.method) \($0.template)" }
    }

    private func find(method: String, target: String) -> Operation? {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        // OpenAPI matches the path first, a concrete path before a templated one; then the method. `GET /v1/events/bulk`
        // reaches the path `/v1/events/bulk` (which serves only POST: a 405), never `GET /v1/events/{id}`.
        let matching = operations.filter { operation in
            operation.segments.count == segments.count
                && zip(operation.segments, segments).allSatisfy { expected, actual in expected.map { $0 == actual } ?? !actual.isEmpty }
        }
        guard let template = matching.max(by: { $0.literalCount < $1.literalCount })?.template else { return nil }
        return matching.first { $0.template == template && $0.method == method.uppercased() }
    }

    /// Every way `exchange` departs from the document; empty when it conforms or no operation matches it.
    func violations(of exchange: Exchange) -> [Violation] {
        guard let operation = find(method: exchange.method, target: exchange.target) else { return [] }
        let name = "\(operation.method) \(operation.template)"
        var violations: [Violation] = []
        func add(_ part: String, _ detail: String) {
            violations.append(Violation(operation: name, status: exchange.status, part: part, detail: detail))
        }
        let validator = JSONSchemaValidator(document: document)

        // The response: a documented status, a documented media type, a body that matches its schema.
        let responses = operation.definition["responses"]?.objectValue ?? [:]
        let statusKey = [String(exchange.status), "\(exchange.status / 100)XX", "default"].first { responses[$0] != nil }
        guard let statusKey, let documented = responses[statusKey].map(followReference) else {
            add("status", "is not documented (the operation lists \(responses.keys.sorted().joined(separator: ", ")))")
            return violations
        }
        let responsePointer = "\(operation.pointer)/responses/\(statusKey)"
        let content = documented["content"]?.objectValue
        let body = exchange.responseBody
        if exchange.method.uppercased() != "HEAD", !body.isEmpty {
            if let content {
                let mediaType = Self.mediaType(exchange.responseContentType)
                if let (key, media) = Self.match(mediaType, in: content) {
                    if Self.isJSON(mediaType), let schema = media["schema"] {
                        if let value = try? JSONValue.parse(body) {
                            for violation in validator.validate(
                                value, against: schema, schemaPath: "\(responsePointer)/content/\(JSONSchemaValidator.escape(key))/schema",
                                direction: .response)
                            {
                                add("response body", violation.description)
                            }
                        } else {
                            add("response body", "is not JSON though it says \(mediaType): \(JSONSchemaValidator.describe(.string(body)))")
                        }
                    }
                } else {
                    add(
                        "content type",
                        "\(mediaType.isEmpty ? "(none)" : mediaType) is not documented (\(content.keys.sorted().joined(separator: ", ")))")
                }
            } else {
                add("response body", "is present, but \(responsePointer) documents no content: \(JSONSchemaValidator.describe(.string(body)))")
            }
        }

        // The request: a body the server accepted must be one the document allows.
        if (200..<300).contains(exchange.status), let requestBody = exchange.requestBody, !requestBody.isEmpty {
            let mediaType = Self.mediaType(exchange.requestContentType)
            if let requestContent = operation.definition["requestBody"].map(followReference)?["content"]?.objectValue {
                if let (key, media) = Self.match(mediaType, in: requestContent) {
                    if Self.isJSON(mediaType), let schema = media["schema"], let value = try? JSONValue.parse(requestBody) {
                        let schemaPath = "\(operation.pointer)/requestBody/content/\(JSONSchemaValidator.escape(key))/schema"
                        for violation in validator.validate(value, against: schema, schemaPath: schemaPath, direction: .request) {
                            add("request body (accepted)", violation.description)
                        }
                    }
                } else {
                    add(
                        "request content type",
                        "\(mediaType) was accepted but is not documented (\(requestContent.keys.sorted().joined(separator: ", ")))")
                }
            } else {
                add("request body", "was accepted, but the operation documents none: \(JSONSchemaValidator.describe(.string(requestBody)))")
            }
        }
        return violations
    }

    /// A response or request body object, with a `$ref` to `#/components/…` followed.
    private func followReference(_ value: JSONValue) -> JSONValue {
        if case .string(let reference)? = value["$ref"], let target = JSONSchemaValidator(document: document).resolve(reference) { return target }
        return value
    }

    /// `application/json` from `application/json; charset=utf-8`, lower-cased.
    static func mediaType(_ header: String?) -> String {
        (header ?? "").split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    static func isJSON(_ mediaType: String) -> Bool {
        mediaType == "application/json" || mediaType.hasSuffix("+json")
    }

    /// The content entry for `mediaType`: exact, then `type/*`, then `*/*`.
    private static func match(_ mediaType: String, in content: [String: JSONValue]) -> (String, JSONValue)? {
        let range = (mediaType.split(separator: "/").first.map(String.init) ?? "") + "/*"
        for key in [mediaType, range, "*/*"] {
            if let media = content[key] { return (key, media) }
        }
        return nil
    }
}

extension OpenAPIConformance {
    /// Checks `exchange` against the repository's document and records each violation as an issue of the running test,
    /// at `sourceLocation` (the test's call to its API client).
    static func check(_ exchange: Exchange, sourceLocation: SourceLocation) {
        switch shared {
        case .failure(let error):
            Issue.record("the OpenAPI document cannot be read for conformance checks: \(error)", sourceLocation: sourceLocation)
        case .success(let conformance):
            let violations = conformance.violations(of: exchange)
            ConformanceLog.record(
                exchange, operation: conformance.operation(method: exchange.method, target: exchange.target), violations: violations)
            for violation in violations {
                Issue.record(
                    "\(exchange.method) \(exchange.target) does not conform to openapi.json: \(violation)", sourceLocation: sourceLocation)
            }
        }
    }
}
