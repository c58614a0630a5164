import Herald
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// Herald's HTTP API: a thin layer that authenticates, decodes, calls the engine and encodes.
public enum HeraldServer {
    /// The routes a node of `role` serves: every route with its authentication (`all`, `api`), or only the
    /// probes, metrics and API description (`worker`: nothing of a tenant's). Tests use this router directly.
    public static func router(engine: HeraldEngine, role: NodeRole = .all) -> Router<HeraldRequestContext> {
        let router = Router(context: HeraldRequestContext.self)
        // HTTP request counts and durations, through swift-metrics (`herald serve` points it at /metrics).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: NoSniffMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: engine.configuration.maxBodyBytes))
        OperationsRoutes(engine: engine, role: role).register(on: router)
        guard role.servesAPI else { return router }
        // Unsubscribe links carry their own signed token; no API key or login.
        UnsubscribeRoutes(engine: engine).register(on: router)
        // What browsers load: the embeddable components, the preference page behind a signed link, and the
        // admin console (its session cookie authenticates the tenant routes below, with a CSRF token).
        EmbedRoutes().register(on: router)
        PreferencePageRoutes(engine: engine).register(on: router)
        ConsoleRoutes(engine: engine).register(on: router)

        let operatorRoutes = router.group("v1").add(middleware: AdminAuthMiddleware(adminKey: engine.configuration.adminKey))
        TenantRoutes(engine: engine).registerOperator(on: operatorRoutes)

        let inbox = router.group("v1/inbox").add(middleware: CORSMiddleware(engine: engine)).add(middleware: SubscriberAuthMiddleware(engine: engine))
        InboxRoutes(engine: engine).register(on: inbox)
        InboxStreamRoutes(engine: engine).register(on: inbox)
        // The preference routes also take the preferences-only tokens of the page behind a preference link.
        let inboxPreferences = router.group("v1/inbox").add(middleware: CORSMiddleware(engine: engine))
            .add(middleware: SubscriberAuthMiddleware(engine: engine, alsoAccepts: [.preferences]))
        InboxPreferenceRoutes(engine: engine).register(on: inboxPreferences)
        // Browsers preflight cross-origin inbox calls; each inbox path answers OPTIONS from the tenants' allowed origins.
        let inboxPaths = Set(router.routes.map { "\($0.path)" }.filter { $0.hasPrefix("/v1/inbox") || $0.hasPrefix("v1/inbox") })
        for path in inboxPaths.sorted() {
            router.on(RouterPath(path), method: .options, use: CORSMiddleware.preflight(engine: engine))
        }

        let tenantRoutes = router.group("v1").add(middleware: TenantAuthMiddleware(engine: engine))
        TenantRoutes(engine: engine).register(on: tenantRoutes)
        EventTypeRoutes(engine: engine).register(on: tenantRoutes)
        SubscriberRoutes(engine: engine).register(on: tenantRoutes)
        TopicRoutes(engine: engine).register(on: tenantRoutes)
        EventRoutes(engine: engine, bulkBodyLimit: engine.configuration.maxBodyBytes * 10).register(on: tenantRoutes)
        MessageRoutes(engine: engine).register(on: tenantRoutes)
        EmailSettingsRoutes(engine: engine).register(on: tenantRoutes)
        CORSSettingsRoutes(engine: engine).register(on: tenantRoutes)
        RateLimitSettingsRoutes(engine: engine).register(on: tenantRoutes)
        ScheduleRoutes(engine: engine).register(on: tenantRoutes)
        ChatSettingsRoutes(engine: engine).register(on: tenantRoutes)
        SMSSettingsRoutes(engine: engine).register(on: tenantRoutes)
        WebhookSettingsRoutes(engine: engine).register(on: tenantRoutes)
        StatsRoutes(engine: engine).register(on: tenantRoutes)
        return router
    }

    /// The routes reached by a WebSocket upgrade request (the live inbox).
    public static func webSocketRouter(engine: HeraldEngine) -> Router<HeraldWebSocketContext> {
        let router = Router(context: HeraldWebSocketContext.self)
        InboxWebSocketRoutes(engine: engine).register(on: router)
        return router
    }

    /// What one node of the given role runs: its routes (``router(engine:role:)``) and the background
    /// services its role asks for (``HeraldEngine/services(role:observer:)``).
    public static func application(
        engine: HeraldEngine, role: NodeRole = .all, logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let services = try await engine.services(role: role)
        let configuration = engine.configuration
        return Application(
            router: router(engine: engine, role: role),
            server: .herald(
                webSocketRouter: role.servesAPI ? webSocketRouter(engine: engine) : Router(context: HeraldWebSocketContext.self),
                configuration: .init(ws: .init(autoPing: .enabled(timePeriod: .milliseconds(Int64(configuration.inboxHeartbeatSeconds * 1000)))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Herald"),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger)
    }
}

/// Sets the default body limit on every request; a route may raise it (bulk triggers).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = limit
        return try await next(request, context)
    }
}

/// `X-Content-Type-Options: nosniff` on every answer, so no browser ever reads JSON or a problem
/// document as HTML or script.
struct NoSniffMiddleware: RouterMiddleware {
    typealias Context = HeraldRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.xContentTypeOptions] == nil { response.headers[.xContentTypeOptions] = "nosniff" }
        return response
    }
}
