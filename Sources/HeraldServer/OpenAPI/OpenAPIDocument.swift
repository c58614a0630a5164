import Herald

/// The OpenAPI 3.1 description of Herald's HTTP API, served at `GET /openapi.json` and `GET /openapi.yaml`.
///
/// The document is the file `Resources/openapi.json`, compiled into the binary. Keep it in step with the route
/// files: a test compares the router's (method, path) list with its `paths`, and the test suite checks every request
/// and response body its API client exchanges against the schemas (`Tests/HeraldTests/Support/OpenAPIConformance.swift`).
enum OpenAPIDocument {
    static let json: String = EmbeddedFiles.heraldServer.text("openapi.json")
}
