import Foundation
import Herald
import HeraldServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A small JSON client over Hummingbird's test client.
struct APIClient {
    let client: any TestClientProtocol

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        var json: JSONValue? { try? JSONValue.parse(text) }
        subscript(key: String) -> JSONValue? { json?[key] }
    }

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, auth: String? = nil, json: JSONValue? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:], sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> Reply
    {
        var headers = extra
        if let auth { headers[.authorization] = "Bearer \(auth)" }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(string: json.jsonText()) } else if let raw { body = ByteBuffer(string: raw) }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        let reply = Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        // Every exchange is held to the OpenAPI document; a departure fails the test that made it.
        OpenAPIConformance.check(
            .init(
                method: method.rawValue, target: path, requestContentType: headers[.contentType], requestBody: body.map { String(buffer: $0) },
                status: Int(reply.status.code), responseContentType: reply.headers[.contentType], responseBody: reply.text),
            sourceLocation: sourceLocation)
        return reply
    }

    /// Creates a tenant through the operator route and returns its id and API key.
    func createTenant(_ name: String) async throws -> (id: String, key: String) {
        let reply = try await send(.post, "/v1/tenants", auth: "test-admin-key", json: ["name": .string(name)])
        guard reply.status == .created, let id = reply["tenant"]?["id"]?.stringValue, let key = reply["api_key"]?["key"]?.stringValue else {
            throw HeraldError.conflict("tenant creation failed: \(reply.status) \(reply.text)")
        }
        return (id, key)
    }
}

extension HeraldEngine {
    /// Runs `body` against the router (no socket), with the engine's services running.
    func testAPI(_ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let app = Application(router: HeraldServer.router(engine: self))
        try await whileRunning {
            try await app.test(.router) { client in try await body(APIClient(client: client)) }
        }
    }
}
