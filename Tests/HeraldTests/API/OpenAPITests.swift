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
                for method in operations.keys where ["get", "put", "post", "patch", "delete"].contains(method) {
                    documented.insert("\(method) \(path)")
                }
            }
            #expect(served.subtracting(documented).sorted() == [], "routes missing from openapi.json")
            #expect(documented.subtracting(served).sorted() == [], "documented routes the server does not serve")
        }
    }
}
