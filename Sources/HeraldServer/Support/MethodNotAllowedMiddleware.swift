import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Answers 405 with an `Allow` header when the path is one the router serves but the method is not, where the
/// router alone answers 404 (it resolves the path, then finds no responder for the method).
///
/// It learns the registered routes once they are all added (``learnRoutes(of:)``), as a second router holding the
/// same paths, each under one stand-in method and answering with its `Allow` list, so "is this a known path" is
/// decided by Hummingbird's own path matching (constant segments before captures), not by a copy of it, for any
/// method a client sends (`PATCH`, `QUERY`, `PROPFIND`). It only looks at requests the router could not route.
final class MethodNotAllowedMiddleware: RouterMiddleware, Sendable {
    typealias Context = HeraldRequestContext

    /// The method every path of the second router answers: no client's request reaches that router as it is.
    private static let lookup = HTTPRequest.Method("X-HERALD-ALLOWED-METHODS")!

    private let fallback = Mutex<RouterResponder<Context>?>(nil)

    /// Reads the router's routes, after every route has been registered.
    func learnRoutes(of router: Router<Context>) {
        var allowed: [String: (path: RouterPath, methods: Set<String>)] = [:]
        for route in router.routes {
            allowed["\(route.path)", default: (route.path, [])].methods.insert(route.method.rawValue)
        }
        let fallbackRouter = Router(context: Context.self)
        for (path, methods) in allowed.values {
            let allow = methods.sorted().joined(separator: ", ")
            fallbackRouter.on(path, method: Self.lookup) { _, _ in Response(status: .noContent, headers: [.allow: allow]) }
        }
        let responder = fallbackRouter.buildResponder()
        fallback.withLock { $0 = responder }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let fallback = fallback.withLock({ $0 }) else { throw error }
            var head = request.head
            head.method = Self.lookup
            guard let answer = try? await fallback.respond(to: Request(head: head, body: .init(buffer: ByteBuffer())), context: context),
                answer.status == .noContent, let allow = answer.headers[.allow],
                !allow.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == request.method.rawValue })
            else { throw error }
            // The path is known and the method is not one of its own (a handler's own 404 stays a 404).
            return Self.methodNotAllowed(request.method, allow: allow)
        }
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allow: String) -> Response {
        var response = ProblemDetails(
            type: "method-not-allowed", title: "Method not allowed", status: .methodNotAllowed,
            detail: "this path does not answer \(method.rawValue); it answers \(allow)"
        ).response()
        response.headers[.allow] = allow
        return response
    }
}
