import Herald
import HTTPTypes
import Hummingbird

/// Where every route's access is declared: ``declare(_:on:_:)`` registers a set of routes behind the
/// check of one requirement and records which routes those are, so the declaration and the check cannot
/// part. ``declared`` lets a test walk every route of the router with every kind of credential, and find a
/// route registered outside any declaration.
final class RouteAccess {
    /// A route as the router lists it: `GET /v1/inbox/count`.
    struct Route: Hashable, Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: String

        init(method: HTTPRequest.Method, path: String) {
            self.method = method
            self.path = path.hasPrefix("/") ? path : "/" + path
        }

        var description: String { "\(method.rawValue) \(path)" }
    }

    let router: Router<HeraldRequestContext>
    let authenticator: Authenticator
    private(set) var declared: [Route: AccessRequirement] = [:]

    init(router: Router<HeraldRequestContext>, engine: HeraldEngine) {
        self.router = router
        self.authenticator = Authenticator(engine: engine)
    }

    /// Registers what `register` adds to `group`, each route behind the check of `requirement`.
    ///
    /// ```swift
    /// access.declare(.credential(.inboxRead), on: router.group("v1/inbox")) { InboxRoutes(engine: engine).registerReads(on: $0) }
    /// ```
    func declare(
        _ requirement: AccessRequirement, on group: RouterGroup<HeraldRequestContext>, _ register: (RouterGroup<HeraldRequestContext>) -> Void
    ) {
        let before = Set(routes())
        // A group of its own: middleware added to `group` itself would also guard the next declaration on it.
        register(group.group("").add(middleware: AccessControlMiddleware(authenticator: authenticator, requirement: requirement)))
        record(requirement, Set(routes()).subtracting(before))
    }

    /// Registers routes that need nothing (probes, assets, pages), with `register` on the router itself.
    func declareOpen(_ register: () -> Void) {
        let before = Set(routes())
        register()
        record(.open, Set(routes()).subtracting(before))
    }

    private func record(_ requirement: AccessRequirement, _ routes: Set<Route>) {
        for route in routes { declared[route] = requirement }
    }

    /// Every route the router serves.
    func routes() -> [Route] {
        router.routes.map { Route(method: $0.method, path: "\($0.path)") }
    }
}
