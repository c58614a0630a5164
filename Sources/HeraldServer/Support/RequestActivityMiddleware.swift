import Herald
import Hummingbird

/// Counts each request the node answers in its engine's ``RequestActivity``, which a fan-out reads to leave
/// requests the machine.
struct RequestActivityMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let activity: RequestActivity

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await activity.serving { try await next(request, context) }
    }
}
