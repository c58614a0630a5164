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
        routeAccess(engine: engine, role: role).router
    }

    /// The router and what each of its routes needs: every route is registered under a declared
    /// ``AccessRequirement`` whose check ``AccessControlMiddleware`` runs, so no route can forget it.
    static func routeAccess(
        engine: HeraldEngine, role: NodeRole = .all, settingsFamilies: [SettingsRoutes.Family] = SettingsRoutes.families
    ) -> RouteAccess {
        let router = Router(context: HeraldRequestContext.self)
        let access = RouteAccess(router: router, engine: engine)
        // HTTP request counts and durations, through swift-metrics (`herald serve` points it at /metrics).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestActivityMiddleware(activity: engine.requestActivity))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: NoSniffMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: engine.configuration.maxBodyBytes))
        // A known path with a method it does not answer is a 405 naming those it does, not a 404.
        let methods = MethodNotAllowedMiddleware()
        router.add(middleware: methods)
        defer { methods.learnRoutes(of: router) }
        access.declareOpen { OperationsRoutes(engine: engine, role: role).register(on: router) }
        guard role.servesAPI else { return access }
        // What browsers load: the embeddable components, the preference page's assets, and the admin console's
        // pages, sign-in and sign-out (its session cookie authenticates the tenant routes below, with a CSRF token).
        access.declareOpen {
            EmbedRoutes().register(on: router)
            PreferencePageRoutes(engine: engine).registerAssets(on: router)
            ConsoleRoutes(engine: engine).registerPages(on: router)
        }
        // The email preview frame: a console session's own, with a body the size of a draft.
        let consoleFrames = router.group("console").add(middleware: BodyLimitMiddleware(limit: max(engine.configuration.maxBodyBytes, 1 << 20)))
        access.declare(.credential(.console), on: consoleFrames) { ConsoleRoutes(engine: engine).registerPreview(on: $0) }
        // Links in emails carry their own signed token; no API key or login.
        access.declare(.link(.unsubscribe), on: router.group()) { UnsubscribeRoutes(engine: engine).register(on: $0) }
        access.declare(.link(.preferenceLink), on: router.group()) { PreferencePageRoutes(engine: engine).registerPage(on: $0) }
        // Email providers' bounce and complaint webhooks: the provider's signature or credentials are the authority,
        // checked by the engine against the chain's configurations (a webhook that does not verify is a 401).
        access.declareOpen { EmailWebhookRoutes(engine: engine).register(on: router) }
        // Tracked email links and open pixels: the signed token in the path is checked by the route itself (a bad
        // one is a 404 that records nothing), so they are open like the pages a browser loads.
        access.declareOpen { TrackingRoutes(engine: engine).register(on: router.group()) }

        access.declare(.credential(.operator), on: router.group("v1")) { TenantRoutes(engine: engine).registerOperator(on: $0) }

        // The inbox answers browsers on other origins (CORS), errors included, so CORS wraps the access check.
        let inbox = router.group("v1/inbox").add(middleware: CORSMiddleware(engine: engine))
        access.declare(.credential(.inboxRead), on: inbox) {
            InboxRoutes(engine: engine).registerReads(on: $0)
            InboxStreamRoutes(engine: engine).register(on: $0)
            PushRoutes(engine: engine).registerInboxReads(on: $0)
        }
        access.declare(.credential(.inboxWrite), on: inbox) {
            InboxRoutes(engine: engine).registerChanges(on: $0)
            PushRoutes(engine: engine).registerInboxChanges(on: $0)
        }
        // Also what the page behind a preference link may do, with its preferences-only token.
        access.declare(.credential(.preferences), on: inbox) { InboxPreferenceRoutes(engine: engine).register(on: $0) }
        // Browsers preflight cross-origin inbox calls; each inbox path answers OPTIONS, the same for every origin.
        let inboxPaths = Set(router.routes.map { "\($0.path)" }.filter { $0.hasPrefix("/v1/inbox") || $0.hasPrefix("v1/inbox") })
        access.declareOpen {
            for path in inboxPaths.sorted() {
                router.on(RouterPath(path), method: .options, use: CORSMiddleware.preflight)
            }
        }

        access.declare(.credential(.tenantAPI), on: router.group("v1")) { tenantRoutes in
            TenantRoutes(engine: engine).register(on: tenantRoutes)
            EventTypeRoutes(engine: engine).register(on: tenantRoutes)
            SubscriberRoutes(engine: engine).register(on: tenantRoutes)
            TopicRoutes(engine: engine).register(on: tenantRoutes)
            EventRoutes(engine: engine, bulkBodyLimit: engine.configuration.maxBodyBytes * 10).register(on: tenantRoutes)
            MessageRoutes(engine: engine).register(on: tenantRoutes)
            SettingsRoutes(engine: engine, families: settingsFamilies).register(on: tenantRoutes)
            EmailSettingsRoutes(engine: engine).register(on: tenantRoutes)
            SuppressionRoutes(engine: engine).register(on: tenantRoutes)
            PushRoutes(engine: engine).register(on: tenantRoutes)
            ScheduleRoutes(engine: engine).register(on: tenantRoutes)
            StatsRoutes(engine: engine).register(on: tenantRoutes)
        }
        return access
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
        let limits = configuration.connections
        let metrics = engine.metrics
        let gate = ConnectionGate(
            limit: limits.maxOpen ?? ConnectionLimits.defaultMaxOpen(fileDescriptorLimit: FileDescriptorLimit.raised()), logger: logger
        ) { metrics.recordConnectionRefused() }
        return Application(
            router: router(engine: engine, role: role),
            server: .herald(
                webSocketRouter: role.servesAPI ? webSocketRouter(engine: engine) : Router(context: HeraldWebSocketContext.self),
                configuration: .init(ws: .init(autoPing: .enabled(timePeriod: Seconds(clamping: configuration.inboxHeartbeatSeconds).duration))),
                limits: limits, gate: gate),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Herald"),
            services: services,
            onServerRunning: { listening in
                // The gate decides in accept order from here on (connections accepted before this decide
                // in their own setup).
                do {
                    try await listening.pipeline.addHandler(ConnectionGate.AcceptOrder(gate: gate), position: .first).get()
                } catch {
                    logger.warning("Connections are admitted in setup order, not accept order", metadata: ["error": "\(error)"])
                }
                await onServerRunning(listening)
            },
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
