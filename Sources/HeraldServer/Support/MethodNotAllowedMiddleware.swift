import HTTPTypes
import Hummingbird
import Synchronization

/// Answers 405 with an `Allow` header when the path is one the router serves but the method is not, where the
/// router alone answers 404 (it resolves the path, then finds no responder for the method).
///
/// It learns the registered routes once they are all added (``learnRoutes(of:)``), as a second router holding
/// the same paths with the methods they lack, so "is this a known path" is decided by Hummingbird's own path
/// matching (constant segments before captures), not by a copy of it. It only looks at requests the router
/// could not route, so it costs nothing on a routed request.
final class MethodNotAllowedMiddleware: RouterMiddleware, Sendable {
    typealias Context = HeraldRequestContext

    /// The methods a 405 can be answered for; any other method on a known path stays a 404.
    static let knownMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace, .connect]

    private let fallback = Mutex<RouterResponder<Context>?>(nil)

    /// Reads the router's routes, after every route has been registered.
    func learnRoutes(of router: Router<Context>) {
        var allowed: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            allowed["\(route.path)", default: (route.path, [])].methods.insert(route.method)
        }
        let fallbackRouter = Router(context: Context.self)
        for (path, methods) in allowed.values {
            let allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
            for method in Self.knownMethods where !methods.contains(method) {
                fallbackRouter.on(path, method: method) { request, _ in Self.methodNotAllowed(request.method, allow: allow) }
            }
        }
        let responder = fallbackRouter.buildResponder()
        fallback.withLock { $0 = responder }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let fallback = fallback.withLock({ $0 }), let answer = try? await fallback.respond(to: request, context: context),
                answer.status == .methodNotAllowed
            else { throw error }
            return answer
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
