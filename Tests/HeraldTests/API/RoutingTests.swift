import Foundation
import Herald
import HeraldServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// How a request reaches its route: ids in paths are percent-decoded once, after routing; a known path with a
/// method it does not answer is a 405 with `Allow`; a JSON body that is not UTF-8 is a 400 saying so.
@Suite("Routing: path ids, 405 and JSON bodies")
struct RoutingTests {
    @Test("ids made by the bulk API are reached at their percent-encoded paths, and PUT there updates them")
    func percentEncodedIDs() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Paths")
            let ids = ["josé", "a b", "team/lead", "50%", "+1"]
            let bulk = try await api.send(
                .post, "/v1/subscribers/bulk", auth: key, json: ["subscribers": .array(ids.map { .object(["id": .string($0)]) })])
            try #require(bulk.status == .ok, "\(bulk.text)")
            for id in ids {
                let path = "/v1/subscribers/" + Self.encoded(id)
                let read = try await api.send(.get, path, auth: key)
                #expect(read.status == .ok && read["id"]?.stringValue == id, "GET \(path): \(read.status) \(read.text)")
                let update = try await api.send(.put, path, auth: key, json: ["name": "Renamed"])
                #expect(update.status == .ok && update["id"]?.stringValue == id, "PUT \(path) updates \(id): \(update.status) \(update.text)")
                #expect(try await api.send(.get, path + "/preferences", auth: key).status == .ok)
            }
            let list = try await api.send(.get, "/v1/subscribers?limit=100", auth: key)
            guard case .array(let rows)? = list["data"] else { throw HeraldError.conflict("no list: \(list.text)") }
            let listed = Set(rows.compactMap { $0["id"]?.stringValue })
            #expect(listed == Set(ids), "no second subscriber under the encoded name: \(listed.sorted())")
            for id in ids {
                #expect(try await api.send(.delete, "/v1/subscribers/" + Self.encoded(id), auth: key).status == .noContent)
            }
            #expect(try await api.send(.get, "/v1/subscribers/" + Self.encoded("josé"), auth: key).status == .notFound)

            // The same helper serves every route's ids: a topic key and an event type key.
            #expect(try await api.send(.put, "/v1/topics/floor%2E3", auth: key, json: ["name": "Floor 3"]).status == .ok)
            #expect(try await api.send(.get, "/v1/topics/floor.3", auth: key).status == .ok)
            #expect(try await api.send(.get, "/v1/event-types/payment%5Fdue", auth: key).status == .ok)
        }
    }

    /// A path parameter that cannot be any id: a 422 naming it, for every method; an id that could exist: 404.
    @Test(
        "a path id that is not percent-encoded UTF-8 text is a 422 naming it",
        arguments: ["%ZZ", "%FF", "%C3", "%00", "a%0Ab", "%7F"])
    func undecodableIDs(segment: String) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Bad paths")
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/subscribers/\(segment)"), (.delete, "/v1/subscribers/\(segment)"), (.put, "/v1/subscribers/\(segment)"),
                (.get, "/v1/topics/\(segment)"), (.get, "/v1/event-types/\(segment)"), (.get, "/v1/messages/\(segment)"),
                (.delete, "/v1/schedules/\(segment)"), (.delete, "/v1/api-keys/\(segment)"),
            ] {
                let field = path.hasPrefix("/v1/topics") || path.hasPrefix("/v1/event-types") ? "key" : "id"
                let reply = try await api.send(method, path, auth: key, json: method == .put ? ["name": "x"] : nil)
                #expect(reply.status == .unprocessableContent && reply["field"]?.stringValue == field, "\(method) \(path): \(reply.status) \(reply.text)")
            }
            #expect(try await api.send(.get, "/v1/subscribers/nobody%20here", auth: key).status == .notFound)
        }
    }

    @Test("every known path answers 405 with Allow for each method it does not serve, and 404 stays for unknown paths")
    func methodNotAllowed() async throws {
        let engine = try await TestEngine.make()
        let router = HeraldServer.router(engine: engine)
        var methodsByPath: [String: Set<HTTPRequest.Method>] = [:]
        for route in router.routes {
            let path = "/" + route.path.description.drop { $0 == "/" }
            methodsByPath[path, default: []].insert(route.method)
        }
        let probes: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .options, HTTPRequest.Method("QUERY")!]
        let served = methodsByPath
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Methods")
            var checked = 0
            for (pattern, methods) in served.sorted(by: { $0.key < $1.key }) {
                // A concrete path for the pattern: each {capture} filled with a plain id.
                let path = pattern.split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix("{") ? "x1" : String($0) }.joined(separator: "/")
                for method in probes where !methods.contains(method) {
                    let reply = try await api.send(method, path, auth: key)
                    let allow = Set((reply.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(reply.status == .methodNotAllowed, "\(method) \(path): \(reply.status) \(reply.text)")
                    #expect(allow == Set(methods.map(\.rawValue)), "\(method) \(path): Allow \(allow.sorted()), serves \(methods.map(\.rawValue).sorted())")
                    #expect(reply.headers[.contentType] == "application/problem+json")
                    checked += 1
                }
            }
            #expect(checked > 100)
            #expect(try await api.send(.patch, "/v1/no-such-thing", auth: key).status == .notFound)
            #expect(try await api.send(.get, "/v1/subscribers/x1/no-such-thing", auth: key).status == .notFound)
            // A routed request whose handler finds nothing is still the route's 404.
            #expect(try await api.send(.get, "/v1/subscribers/nobody", auth: key).status == .notFound)
        }
    }

    @Test("a JSON body that is not UTF-8 is a 400 saying so, not a 422 about some field")
    func bodyNotUTF8() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Bytes")
            let bodies: [[UInt8]] = [
                Array(#"{"name": ""#.utf8) + [0xFF] + Array(#""}"#.utf8),
                Array(#"{"name": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
                Array(#"{"name": ""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),  // a UTF-16 surrogate, encoded
            ]
            for bytes in bodies {
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(key)"
                headers[.contentType] = "application/json"
                let response = try await api.client.executeRequest(
                    uri: "/v1/subscribers/ana", method: .put, headers: headers, body: ByteBuffer(bytes: bytes))
                let problem = try JSONValue.parse(String(buffer: response.body))
                #expect(response.status == .badRequest, "\(bytes): \(response.status) \(String(buffer: response.body))")
                #expect(problem["type"]?.stringValue == "urn:herald:problem:malformed-json" && problem["detail"]?.stringValue?.contains("UTF-8") == true)
            }
            #expect(try await api.send(.get, "/v1/subscribers/ana", auth: key).status == .notFound, "nothing was written")
        }
    }

    /// Percent-encodes everything but unreserved characters, as a client library would.
    static func encoded(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))!
    }
}
