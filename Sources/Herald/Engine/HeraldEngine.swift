import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Herald's engine: everything the HTTP API does, callable in-process by a Swift server app.
///
/// ```swift
/// let herald = try await HeraldEngine(configuration: .init())
/// let (tenant, key) = try await herald.createTenant(name: "Maple Court")
/// try await herald.send(VisitorArrival(visitorName: "Ana", gate: "North"), to: [.subscriber("flat-12")], tenantID: tenant.id)
/// // run herald.services() in your ServiceGroup to deliver
/// ```
public final class HeraldEngine: Sendable {
    public let configuration: HeraldConfiguration
    package let store: any Store
    package let catalog: Catalog
    package let renderer: TemplateRenderer
    package let tokens: SubscriberTokens
    /// Signs the unsubscribe links in emails.
    package let unsubscribeTokens: UnsubscribeTokens
    /// Signs the links to a subscriber's preference centre.
    package let preferenceLinks: PreferenceLinkTokens
    /// Signs every email's VERP return path, and tells a bounce's address from a forged one.
    package let bounceAddresses: BounceAddresses
    /// Signs the tracked links and open pixels of email, and tells them from forged or altered ones.
    package let trackingTokens: EmailTrackingTokens
    /// The inbound SMTP listener, made on first use (``inboundMail``).
    let inboundMailServer = Mutex<InboundMailServer?>(nil)
    package let signal: WakeSignal
    package let channels: [any DeliveryChannel]
    /// This process's name in leases, so an operator can tell whose claim a message is under.
    public let nodeID: String
    public let logger: Logger
    /// Beats each time a dispatcher lane looks for work; `/readyz` reads it.
    package let dispatcherHeartbeat = Heartbeat()
    /// Counters, histograms and gauges for `GET /metrics`.
    public let metrics = HeraldMetrics()
    /// The requests this node is answering (the server counts them), which its fan-out leaves a core to.
    public let requestActivity = RequestActivity()
    /// Every provider endpoint's circuit breaker (webhooks, chat, SMS).
    package let circuits: CircuitBreakers
    /// Webhooks, chat and SMS requests go through this client, with the operator's destination policy.
    package let http: OutboundHTTPClient
    /// Live inbox connections (SSE, WebSocket) and what they are pushed.
    package let inboxHub: InboxHub
    /// Each settings family's documents (email, chat, SMS, webhook, CORS, rate limits), shared by the API, the
    /// engine and the channels, with their caches.
    let settingsRegistry: TenantSettingsRegistry
    /// Hear of committed outcomes and inbox changes: the real-time inbox and status webhooks.
    package let observers: [any DeliveryObserver]
    /// Rung when status webhooks are queued, so their sender looks at once.
    let statusWebhookWakeup = Wakeup()
    /// Rung by triggers and by inbox reads, which may end a workflow run's wait.
    let workflowWakeup: Wakeup
    /// Tenants of API keys seen lately, by key hash (see ``tenant(forAPIKey:)``).
    let verifiedKeys = LookupCache<String, Tenant>(lifetime: HeraldEngine.verifiedKeyLifetime)
    let validator: EventTypeValidator
    /// API request limits per tenant key and subscriber token.
    package let requestLimiter: RequestLimiter
    /// Commits concurrent single triggers together.
    let committer: GroupCommitter
    /// Whether this process runs workers (``services(role:observer:)``), and so delivers in-app messages as it
    /// plans them (``inAppComposer(for:)``). An `api` node leaves them to a worker's dispatcher, as it leaves
    /// all rendering.
    let runsWorkers = Atomic<Bool>(false)
    /// Wake-ups and live-inbox changes to and from the other nodes on a shared database (nil for SQLite).
    let clusterRelay: ClusterRelay?
    /// Where the engine and its services read the time.
    public let clock: HeraldClock
    /// Rung when a schedule is created or changed, so the schedule runner looks at once.
    let scheduleWakeup = Wakeup()

    /// Opens (and migrates) the store and checks the catalog.
    ///
    /// - Parameters:
    ///   - store: defaults to the database the configuration names (a SQLite file or a PostgreSQL URL).
    ///   - channels: delivery channels; the in-app inbox is always present.
    public init(
        configuration: HeraldConfiguration, store: (any Store)? = nil, channels: [any DeliveryChannel] = [],
        logger: Logger = Logger(label: "herald"), clock: HeraldClock = .system
    ) async throws {
        try configuration.validate()
        self.clock = clock
        self.configuration = configuration
        let opened: any Store
        if let store { opened = store } else { opened = try await configuration.openStore(logger: logger) }
        let store = opened
        try await store.migrate()
        self.store = store
        self.catalog = Catalog(shared: configuration.eventTypes, store: store)
        self.renderer = TemplateRenderer(defaultLocale: configuration.defaultLocale)
        var secret = configuration.secret
        if secret == nil { secret = try await store.setting("subscriber_token_secret", default: Identifier.secret(bytes: 32)) }
        self.tokens = SubscriberTokens(secret: secret!)
        let unsubscribeTokens = UnsubscribeTokens(secret: secret!)
        self.unsubscribeTokens = unsubscribeTokens
        self.preferenceLinks = PreferenceLinkTokens(secret: secret!)
        let bounceAddresses = BounceAddresses(secret: secret!)
        self.bounceAddresses = bounceAddresses
        let trackingTokens = EmailTrackingTokens(secret: secret!)
        self.trackingTokens = trackingTokens
        self.signal = WakeSignal()
        self.workflowWakeup = signal.makeWakeup(for: .workflows)
        let circuits = CircuitBreakers(settings: configuration.outbound.circuit)
        let http = OutboundHTTPClient(policy: configuration.outbound.policy, timeoutSeconds: configuration.outbound.timeoutSeconds)
        self.circuits = circuits
        self.http = http
        let settings = TenantSettingsRegistry(store: store, configuration: configuration, circuits: circuits)
        self.settingsRegistry = settings
        var all: [any DeliveryChannel] = [InAppChannel()]
        all += channels.filter { $0.kind != .inApp }
        if let custom = channels.first(where: { $0.kind == .inApp }) { all[0] = custom }
        if !all.contains(where: { $0.kind == .email }) {
            all.append(
                Self.makeEmailChannel(
                    configuration: configuration, store: store, settings: settings.settings(EmailSettings.self), renderer: renderer,
                    tokens: unsubscribeTokens, bounceAddresses: bounceAddresses, trackingTokens: trackingTokens, http: http, circuits: circuits,
                    logger: logger))
        }
        if !all.contains(where: { $0.kind == .chat }) {
            all.append(ChatChannel(http: http, circuits: circuits, settings: settings.settings(ChatSettings.self)))
        }
        if !all.contains(where: { $0.kind == .push }) {
            all.append(
                Self.makePushChannel(
                    configuration: configuration, store: store, settings: settings.settings(PushSettings.self), http: http, circuits: circuits,
                    logger: logger))
        }
        if !all.contains(where: { $0.kind == .sms }) {
            all.append(SMSChannel(defaults: configuration.sms, http: http, circuits: circuits, settings: settings.settings(SMSSettings.self)))
        }
        let webhooks = settings.settings(WebhookSettings.self)
        if !all.contains(where: { $0.kind == .webhook }) {
            all.append(WebhookChannel(settings: webhooks, client: http, circuits: circuits, logger: logger))
        }
        self.channels = all
        self.nodeID = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(Identifier.secret(bytes: 3))"
        self.logger = logger
        self.validator = EventTypeValidator(
            defaultLocale: configuration.defaultLocale, workflowLimits: configuration.workflowLimits, attachmentLimits: configuration.attachments)
        self.committer = GroupCommitter(store: store, clock: clock)
        self.requestLimiter = RequestLimiter(limits: configuration.requestLimits)
        self.inboxHub = InboxHub(store: store, heartbeatSeconds: configuration.inboxHeartbeatSeconds, logger: logger)
        var observers: [any DeliveryObserver] = [
            inboxHub, StatusWebhookRecorder(settings: webhooks, store: store, wakeup: statusWebhookWakeup, logger: logger),
        ]
        if store.isShared {
            let relay = ClusterRelay(store: store, signal: signal, hub: inboxHub, logger: logger)
            signal.relayRings { [relay] in relay.workAdded() }
            observers.append(relay)
            self.clusterRelay = relay
        } else {
            self.clusterRelay = nil
        }
        self.observers = observers
    }

    /// The long-running parts (dispatcher, fan-out, retention), to run in a `ServiceGroup`.
    ///
    /// An `api` node runs only the live inbox hub and the cluster relay, which tells the workers of its triggers and
    /// brings the workers' inbox changes to the live streams it holds.
    public func services(role: NodeRole = .all, observer: (any DeliveryObserver)? = nil) async throws -> [any Service] {
        // Every role may hold live inbox connections (an `api` node most of all), so every role runs the hub.
        let relay: [any Service] = [inboxHub] + (clusterRelay.map { [$0] } ?? [])
        guard role.runsWorkers else { return relay }
        runsWorkers.store(true, ordering: .relaxed)
        let released = try await store.prepareDispatcher(now: clock.now())
        if released > 0 { logger.notice("released leases left by a previous run", metadata: ["count": "\(released)"]) }
        let settings = configuration.dispatch
        return [
            Dispatcher(
                store: store, catalog: catalog, renderer: renderer, channels: channels, settings: settings, signal: signal, owner: nodeID,
                heartbeat: dispatcherHeartbeat, observers: observers + (observer.map { [$0] } ?? []), metrics: metrics, logger: logger,
                clock: clock),
            FanoutWorker(
                store: store, settings: settings, signal: signal, owner: nodeID, logger: logger, clock: clock, requests: requestActivity,
                inApp: { job in await self.inAppComposer(for: job) }),
            WorkflowRunner(
                store: store, settings: settings, wakeup: workflowWakeup, signal: signal, owner: nodeID,
                observers: observers + (observer.map { [$0] } ?? []), metrics: metrics, logger: logger, clock: clock),
            makeScheduleRunner(),
            RetentionService(store: store, settings: settings, logger: logger),
            MemoryReturnService(),
            StatusWebhookSender(
                store: store, settings: settingsRegistry.settings(WebhookSettings.self), client: http, circuits: circuits,
                retry: RetryPolicy(maxAttempts: settings.maxAttempts, base: settings.retryBaseSeconds, cap: settings.retryMaxSeconds),
                owner: nodeID, wakeup: statusWebhookWakeup, pollIntervalSeconds: settings.pollIntervalSeconds,
                retentionDays: configuration.retentionDays, logger: logger),
        ] + channels.compactMap { $0 as? any Service } + relay + (inboundMail.map { [$0] } ?? [])
    }
}
