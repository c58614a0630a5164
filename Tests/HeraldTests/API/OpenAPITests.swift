import Foundation
import Herald
import HeraldServer
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("every route the router serves is documented, and nothing else")
    func documentsEveryRoute() async throws {
        let engine = try await TestEngine.make()
        let router = HeraldServer.router(engine: engine)
        // CORS preflights (OPTIONS) are answered for the browser, not API operations. Neither are the pages
        // and assets browsers load (the console, the embeddable script, the preference page): they serve
        // HTML, JavaScript and CSS, and the JSON routes they call are documented like any other.
        let browserPages = ["/console", "/embed/", "/preferences"]
        let served = Set(
            router.routes.filter { $0.method != .options }
                .map { "\($0.method.rawValue.lowercased()) \($0.path.description.hasPrefix("/") ? "" : "/")\($0.path)" }
                .filter { route in !browserPages.contains { route.split(separator: " ")[1].hasPrefix($0) } })
        #expect(served.count > 30)

        try await engine.testAPI { api in
            var documented: Set<String> = []
            let reply = try await api.send(.get, "/openapi.json")
            #expect(reply.status == .ok)
            guard case .object(let paths)? = reply["paths"] else {
                Issue.record("openapi.json has no paths")
                return
            }
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for method in operations.keys where ["get", "head", "put", "post", "patch", "delete"].contains(method) {
                    documented.insert("\(method) \(path)")
                }
            }
            #expect(served.subtracting(documented).sorted() == [], "routes missing from openapi.json")
            #expect(documented.subtracting(served).sorted() == [], "documented routes the server does not serve")
        }
    }

    /// The answers any request of a kind can get, whatever the operation: a credential refused (401), one that does
    /// not reach it (403) or over its request limit (429); a body that is not JSON (400), too large (413) or of the
    /// wrong shape (422); a path id that cannot be an id (422). The fuzz (scripts/fuzz_api.py) checks the rest.
    @Test("every operation documents the answers its kind of request can get")
    func documentsCommonAnswers() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let document = try #require(try await api.send(.get, "/openapi.json").json)
            guard case .object(let paths)? = document["paths"] else {
                Issue.record("openapi.json has no paths")
                return
            }
            let globalSecurity = document["security"]
            var missing: [String] = []
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                guard case .object(let operations) = item else { continue }
                for (method, operation) in operations.sorted(by: { $0.key < $1.key })
                where ["get", "head", "put", "post", "patch", "delete"].contains(method) {
                    guard case .object(let responses)? = operation["responses"] else { continue }
                    var expected: Set<String> = []
                    if case .array(let schemes)? = operation["security"] ?? globalSecurity, !schemes.isEmpty { expected.formUnion(["401", "403", "429"]) }
                    if operation["requestBody"] != nil { expected.formUnion(["400", "413", "422"]) }
                    if path.contains("{") { expected.insert("422") }
                    for status in expected.sorted() where responses[status] == nil { missing.append("\(method.uppercased()) \(path) \(status)") }
                }
            }
            #expect(missing == [], "answers the server gives that openapi.json does not list")
        }
    }
}
