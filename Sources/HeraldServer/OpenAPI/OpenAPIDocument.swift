/// The OpenAPI 3.1 description of Herald's HTTP API, served at `GET /openapi.json`.
///
/// The document is the file `Resources/openapi.json`, compiled into the binary. Keep it in step with the route
/// files: a test compares the router's (method, path) list with its `paths`.
enum OpenAPIDocument {
    static let json: String = EmbeddedResources.text("openapi.json")
}
